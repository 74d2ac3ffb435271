// zarrita.js as a peer of the polyzarr interop matrix: the Julia worker's protocol (one JSON object per line each
// way; every request has an id; replies carry ok and either result or error {category, message}; a bad request
// never ends the worker). Values travel as raw C-order bytes in a file (typed arrays) or as JSON (strings).
//   {"id", "op": "ping"}                                      -> {"zarrita": version, "node": version}
//   {"id", "op": "read", "path": dir, "out": file}            -> {"data_type", "shape", "stride", "file"} | {..., "strings"}
//   {"id", "op": "write", "path": dir, "meta": {...}, "data": file | "strings": [...]} -> null
// Writes are Zarr v3 only (zarrita's create); int64/uint64 are BigInt64Array/BigUint64Array; Node 20 has no
// Float16Array.
import * as fs from "node:fs";
import * as readline from "node:readline";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";
import { FileSystemStore } from "@zarrita/storage";

const here = path.dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(fs.readFileSync(path.join(here, "node_modules/zarrita/package.json"), "utf8")).version;

const CTORS = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

function bytesOf(data) {
  return Buffer.from(data.buffer, data.byteOffset ?? 0, data.byteLength);
}

async function read(req) {
  const arr = await zarr.open(new FileSystemStore(req.path), { kind: "array" });
  const chunk = await zarr.get(arr);
  if (arr.shape.length === 0 && (chunk === null || typeof chunk !== "object" || !("data" in chunk))) {
    // a 0-d array: get returns the element (BigInt as a decimal string, strings as they are)
    return { data_type: arr.dtype, shape: [], scalar: typeof chunk === "bigint" ? chunk.toString() : chunk };
  }
  const out = { data_type: arr.dtype, shape: chunk.shape, stride: chunk.stride };
  if (Array.isArray(chunk.data)) {
    out.strings = chunk.data.map((x) => (x instanceof Uint8Array ? { b64: Buffer.from(x).toString("base64") } : x));
    return out;
  }
  if (chunk.data instanceof zarr.UnicodeStringArray || chunk.data instanceof zarr.ByteStringArray) {
    out.chars = chunk.data.chars;
  }
  fs.writeFileSync(req.out, bytesOf(chunk.data));
  out.file = req.out;
  out.array_type = chunk.data.constructor.name;
  return out;
}

async function write(req) {
  const m = req.meta;
  const store = new FileSystemStore(req.path);
  fs.rmSync(req.path, { recursive: true, force: true });
  fs.mkdirSync(req.path, { recursive: true });
  const arr = await zarr.create(zarr.root(store), {
    shape: m.shape,
    dtype: m.data_type,
    chunkShape: m.chunk_shape,
    chunkSeparator: m.separator,
    codecs: m.codecs,
    fillValue: m.fill_value,
    dimensionNames: m.dimension_names ?? undefined,
    attributes: m.attributes ?? {},
  });
  let data;
  if (req.strings) {
    data = req.strings;
  } else {
    const buf = fs.readFileSync(req.data);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    if (m.data_type === "bool") data = new zarr.BoolArray(ab);
    else if (CTORS[m.data_type]) data = new CTORS[m.data_type](ab);
    else throw Object.assign(new Error(`the worker cannot build values of ${m.data_type}`), { category: "Unsupported" });
  }
  const stride = [];
  let step = 1;
  for (let i = m.shape.length - 1; i >= 0; i--) {
    stride[i] = step;
    step *= m.shape[i];
  }
  if (m.shape.length === 0) await zarr.set(arr, null, data[0]);
  else await zarr.set(arr, null, { data, shape: m.shape, stride });
  return null;
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
const queue = [];
let busy = false;
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const line = queue.shift();
    let id = null;
    let reply;
    try {
      const req = JSON.parse(line);
      id = req.id;
      let result;
      if (req.op === "ping") result = { zarrita: version, node: process.version };
      else if (req.op === "read") result = await read(req);
      else if (req.op === "write") result = await write(req);
      else throw new Error(`unknown op ${req.op}`);
      reply = { id, ok: true, result };
    } catch (e) {
      reply = { id, ok: false, error: { category: e?.category ?? e?.name ?? "Error", message: String(e?.message ?? e) } };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  }
  busy = false;
}
rl.on("line", (line) => {
  if (line.trim()) {
    queue.push(line);
    drain();
  }
});
