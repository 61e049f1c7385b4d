-- Replays pre-signed, unique events: each wrk thread takes every n-th line of the file
-- (signature TAB body), so no event is sent twice. Set EVENTS to the file's path.
local events = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  thread:set("threads_total", 0)
end

function init(args)
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  local n = 0
  for line in io.lines(os.getenv("EVENTS")) do
    if n % total == index - 1 then
      local tab = line:find("\t", 1, true)
      events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  local event = events[position]
  if event == nil then
    error("out of pre-signed events: generate more")
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Mentorbridge-Signature"] = event[1],
  }, event[2])
end
