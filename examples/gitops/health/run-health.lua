-- Runs an ArgoCD resource health script outside ArgoCD, the way ArgoCD runs it (Lua 5.1, as gopher-lua): the
-- resource, decoded from JSON on stdin, is the global obj, and the script's return value is the health.
-- Usage: kubectl get postgrescluster NAME -o json | lua5.1 run-health.lua postgrescluster.lua
-- Prints the status, a tab, then the message. Needs lua-cjson.
local cjson = require "cjson"
obj = cjson.decode(io.read("*a"))
local check = assert(loadfile(arg[1]))
local hs = check()
print(hs.status .. "\t" .. (hs.message or ""))
