-- A Lua script that works with files, for Debian's Lua 5.4 compiled to
-- wasm32-wasi (tests/e2e-wasi/wasi.py lua): write, read, append, seek,
-- rename, remove, load a source chunk and a binary chunk from files (the
-- binary one is reopened with freopen, which is fd_renumber in WASI).
local f = assert(io.open("notes.txt", "w"))
for i = 1, 5 do
  f:write(string.format("line %d: %s\n", i, string.rep("ab", i)))
end
f:close()

local n, total = 0, 0
for line in io.lines("notes.txt") do
  n = n + 1
  total = total + #line
end
print("lines", n, "chars", total)

local a = assert(io.open("notes.txt", "a"))
a:write("appended\n")
a:close()

local r = assert(io.open("notes.txt", "r"))
local all = r:read("a")
r:seek("set", 5)
local part = r:read(4)
print("size", r:seek("end"), "last", all:match("([^\n]+)\n$"), "part", part)
r:close()

assert(os.rename("notes.txt", "moved.txt"))
print("renamed", io.open("notes.txt") == nil, io.open("moved.txt") ~= nil)

local c = assert(io.open("chunk.lua", "w"))
c:write("return function(x) return x * 6 end\n")
c:close()
print("source chunk", dofile("chunk.lua")(7))

local d = assert(io.open("dumped.luac", "wb"))
d:write(string.dump(load("return 40 + 2")))
d:close()
print("binary chunk", dofile("dumped.luac"))

local words = {}
for w in io.open("moved.txt"):read("a"):gmatch("%a+") do
  words[w] = (words[w] or 0) + 1
end
local keys = {}
for k in pairs(words) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", words[k], " ") end
print()

print("removed", os.remove("moved.txt"), os.remove("chunk.lua"), os.remove("dumped.luac"))
print("missing", io.open("nope.txt") == nil)
print("time", os.time() > 1577836800, type(os.clock()))
