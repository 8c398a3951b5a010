-- Rotates Authorization headers over the tokens listed in the file named by TOKENS_FILE.
local tokens = {}
local path = os.getenv("TOKENS_FILE")
for line in io.lines(path) do
  tokens[#tokens + 1] = line
end
local counter = 0

request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. token })
end
