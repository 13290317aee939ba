-- ArgoCD health of a pgtide PostgresCluster (pgtide.io/v1), from the conditions the operator writes:
--   Degraded=True (a refused spec, a name conflict, a missing image pull Secret)      -> Degraded
--   Ready=False reason SplitView (two members say primary; pgtide leaves the endpoint) -> Degraded
--   Ready=True and not rolling (Progressing is not True), status of this generation  -> Healthy
--   anything else (new cluster, failover under way, rolling update, status not yet written) -> Progressing
local hs = {status = "Progressing", message = "waiting for the pgtide operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local cond = {}
for _, c in ipairs(obj.status.conditions) do
  cond[c.type] = c
end
if cond["Degraded"] ~= nil and cond["Degraded"].status == "True" then
  return {status = "Degraded", message = (cond["Degraded"].reason or "") .. ": " .. (cond["Degraded"].message or "")}
end
local ready = cond["Ready"]
if ready ~= nil and ready.status == "False" and ready.reason == "SplitView" then
  return {status = "Degraded", message = ready.message or "more than one member reports primary"}
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  return {status = "Progressing", message = "the operator has not yet reconciled generation " .. obj.metadata.generation}
end
if ready ~= nil and ready.status == "True" then
  if cond["Progressing"] ~= nil and cond["Progressing"].status == "True" then
    return {status = "Progressing", message = cond["Progressing"].message or "rolling update"}
  end
  return {status = "Healthy", message = ready.message or "primary serving"}
end
if ready ~= nil then
  hs.message = (ready.reason or "") .. ": " .. (ready.message or "")
end
return hs
