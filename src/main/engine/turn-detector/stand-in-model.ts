/**
 * A stand-in for the Smart Turn v3 weights, which cannot be downloaded on the machines that
 * build and test Cue: a small ONNX model written here byte by byte (a minimal protobuf encoder
 * for the few ONNX messages it needs), with Smart Turn v3's signature:
 *
 *   input  `input_features` float32 [batch, 80, 800]  (log-mel, see log-mel.ts)
 *   output `logits`         float32 [batch, 1]        (already a sigmoid probability)
 *
 * What it computes, deterministically: with e[t] the mean over the 80 mels of frame t,
 *
 *   drop = max_t e[t] − mean(e over the last 20 frames, 200 ms)
 *   p    = sigmoid(10 · (drop − 0.8))
 *
 * so audio that ends in silence (the last 200 ms well below the loudest frame) gives a high
 * end-of-turn probability, audio that ends mid-word a low one, and pure silence (drop 0) a low one.
 * That is only a trailing-silence detector, not Smart Turn's judgement of the words and tone.
 *
 * Two optional branches make it cost like a real model; each is squashed (tanh) and added to the
 * logit with a weight of 1e-3, so the probability stays the one above to ~2.5e-4:
 *  - `denseWeightBytes`: the 64 000 features, dynamically quantised to uint8, times an int8
 *    matrix of [64000, denseWeightBytes / 64000] (MatMulInteger). With 8 MB
 *    (STAND_IN_BENCH_WEIGHT_BYTES, the size of the real int8 model) it streams as many weight
 *    bytes as the real model but computes far less (8 M multiply-adds): a floor on inference time.
 *  - `encoder`: int8 layers of Whisper-tiny's shapes at Smart Turn's 400 positions (~3.6 G
 *    multiply-adds, 7.7 MB of weights): an estimate of the real model's inference time.
 */
import { writeFileSync } from 'node:fs';
import { SMART_TURN_FRAMES as FRAMES, WHISPER_N_MELS as MELS } from './log-mel';
import { SMART_TURN_INPUT_NAME, SMART_TURN_OUTPUT_NAME } from './smart-turn';

/** Frames averaged at the end (200 ms). */
export const STAND_IN_TAIL_FRAMES = 20;
export const STAND_IN_GAIN = 10;
export const STAND_IN_THRESHOLD = 0.8;
/** Weight of the dense branch in the logit. */
const DENSE_GAIN = 1e-3;
/** Dense weights the bench's stand-in carries: 8 MB of int8, as the real CPU model. */
export const STAND_IN_BENCH_WEIGHT_BYTES = 8_000_000;

// ---------- a minimal protobuf writer ----------

/** Bytes of one protobuf message, built field by field. */
class Message {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  private varint(value: bigint | number): this {
    // int64 on the wire: negative values as their 64-bit two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    return this.push(Uint8Array.from(bytes));
  }

  private key(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: bigint | number): this {
    return this.key(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    return this.key(field, 5).push(bytes);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, 2).varint(value.length).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

// ---------- ONNX messages (field numbers of onnx.proto) ----------

/** TensorProto.DataType values used here. */
const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
export type StandInElementType = 'float32' | 'float16' | 'double';
const ELEMENT_TYPES: Record<StandInElementType, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  double: DataType.DOUBLE,
};

type Dim = number | string;

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian). */
function tensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Message {
  const t = new Message();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).string(8, name).bytes(9, raw);
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): Message {
  const data = Float32Array.from(values);
  return tensor(name, DataType.FLOAT, dims, new Uint8Array(data.buffer));
}

function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): Message {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return tensor(name, DataType.INT64, dims, new Uint8Array(data.buffer));
}

/** ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2 } } }. */
function valueInfo(name: string, elemType: number, dims: readonly Dim[]): Message {
  const shape = new Message();
  // TensorShapeProto.dim = 1: Dimension { dim_value = 1 | dim_param = 2 }
  for (const d of dims) {
    shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  }
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

type Attribute = { name: string } & ({ int: number } | { ints: number[] } | { float: number });

/** AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20 (FLOAT 1, INT 2, INTS 7). */
function attribute(a: Attribute): Message {
  const m = new Message().string(1, a.name);
  if ('int' in a) return m.int(3, a.int).int(20, 2);
  if ('float' in a) return m.float(2, a.float).int(20, 1);
  for (const v of a.ints) m.int(8, v);
  return m.int(20, 7);
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Attribute[] = [],
) {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, `${op}_${outputs[0]}`).string(4, op);
  for (const a of attributes) m.message(5, attribute(a));
  return m;
}

// ---------- the stand-in ----------

export interface StandInModelOptions {
  /** Bytes of int8 weights in the flat dense branch; 0 (default) leaves it out. */
  denseWeightBytes?: number;
  /**
   * Adds an encoder-shaped branch with Whisper-tiny's compute at 400 positions (the Smart Turn
   * encoder): int8 dynamically quantised linear layers of Whisper-tiny's shapes (front end
   * 160→1152→384 standing for the two convolutions, then 4 layers of Q, K, V, O 384×384,
   * 6-head float attention over 400 positions, feed-forward 384→1536→384, layer norms), about
   * 3.6 G multiply-adds and 7.7 MB of int8 weights. Its output moves the logit by at most 1e-3.
   */
  encoder?: boolean;
  /** Seed of the dense and encoder weights. */
  seed?: number;
  /** For signature tests: another input name, shape or element type, or output name. */
  inputName?: string;
  inputDims?: readonly Dim[];
  inputType?: StandInElementType;
  outputName?: string;
}

/** Deterministic uniform values in [0, 1) (32-bit LCG). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(1664525, state) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Nodes and initializers of a graph under construction, with unique value names. */
class GraphBuilder {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  private count = 0;

  constructor(private readonly random: () => number) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  /** Adds a node; returns the names of its outputs. */
  op(op: string, inputs: readonly string[], attributes: Attribute[] = [], outputs = 1): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()));
    this.nodes.push(node(op, inputs, names, attributes));
    return names;
  }

  one(op: string, inputs: readonly string[], attributes: Attribute[] = []): string {
    return this.op(op, inputs, attributes)[0]!;
  }

  floats(dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh('const');
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  int64s(values: readonly number[]): string {
    const name = this.fresh('shape');
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  int8s(dims: readonly number[], values: Int8Array): string {
    const name = this.fresh('weights');
    this.initializers.push(tensor(name, DataType.INT8, dims, new Uint8Array(values.buffer)));
    return name;
  }

  /** Uniform values in [-amplitude, amplitude). */
  uniform(length: number, amplitude: number): Float32Array {
    return Float32Array.from({ length }, () => (this.random() * 2 - 1) * amplitude);
  }

  /**
   * x · W with W int8 [inputs, outputs], as dynamic quantisation runs it: x quantised to uint8
   * per call (DynamicQuantizeLinear), MatMulInteger, back to float. Scaled to keep unit variance.
   */
  int8Linear(x: string, inputs: number, outputs: number): string {
    const weights = new Int8Array(inputs * outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = Math.floor(this.random() * 255) - 127;
    const w = this.int8s([inputs, outputs], weights);
    const wZero = this.fresh('zero');
    this.initializers.push(tensor(wZero, DataType.INT8, [], new Uint8Array(1)));
    const [q, scale, zero] = this.op('DynamicQuantizeLinear', [x], [], 3) as [string, string, string];
    const acc = this.one('MatMulInteger', [q, w, zero, wZero]);
    const f = this.one('Cast', [acc], [{ name: 'to', int: DataType.FLOAT }]);
    // Uniform int8 has standard deviation ~73: the weight scale divides it and the fan-in out.
    // Cast × (x scale × weight scale) is the pattern onnxruntime's quantize_dynamic writes, which
    // its optimiser fuses into one DynamicQuantizeMatMul.
    const wScale = this.floats([], [1 / (73 * Math.sqrt(inputs))]);
    return this.one('Mul', [f, this.one('Mul', [scale, wScale])]);
  }

  layerNorm(x: string, width: number): string {
    // A non-zero bias: an all-zero activation would give DynamicQuantizeLinear a zero scale.
    return this.one(
      'LayerNormalization',
      [
        x,
        this.floats([width], new Float32Array(width).fill(1)),
        this.floats([width], this.uniform(width, 0.5)),
      ],
      [{ name: 'axis', int: -1 }],
    );
  }

  reshape(x: string, shape: readonly number[]): string {
    return this.one('Reshape', [x, this.int64s(shape)]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.one('Transpose', [x], [{ name: 'perm', ints: [...perm] }]);
  }
}

/** Whisper-tiny's encoder at Smart Turn's 400 positions. */
const ENCODER = { positions: 400, width: 384, heads: 6, ffn: 1536, layers: 4, frontEnd: 1152 } as const;

/** Builds the encoder-shaped branch on features [batch, 80, 800]; returns a [batch, 1] logit nudge. */
function encoderBranch(g: GraphBuilder, features: string): string {
  const { positions: T, width: D, heads: H, ffn, layers, frontEnd } = ENCODER;
  const headWidth = D / H;
  // Front end: two frames per position (stride 2), standing for conv1 (k3) and conv2 (k3, s2).
  let x = g.reshape(g.transpose(features, [0, 2, 1]), [0, T, 2 * MELS]);
  x = g.one('Relu', [g.int8Linear(x, 2 * MELS, frontEnd)]);
  x = g.one('Relu', [g.int8Linear(x, frontEnd, D)]);
  const attentionScale = g.floats([], [1 / Math.sqrt(headWidth)]);
  for (let layer = 0; layer < layers; layer++) {
    const normed = g.layerNorm(x, D);
    const heads = (v: string, perm: number[]) => g.transpose(g.reshape(v, [0, T, H, headWidth]), perm);
    const q = heads(g.int8Linear(normed, D, D), [0, 2, 1, 3]); // [b, H, T, d]
    const k = heads(g.int8Linear(normed, D, D), [0, 2, 3, 1]); // [b, H, d, T]
    const v = heads(g.int8Linear(normed, D, D), [0, 2, 1, 3]);
    const scores = g.one('Mul', [g.one('MatMul', [q, k]), attentionScale]);
    const weights = g.one('Softmax', [scores], [{ name: 'axis', int: -1 }]);
    const context = g.reshape(g.transpose(g.one('MatMul', [weights, v]), [0, 2, 1, 3]), [0, T, D]);
    x = g.one('Add', [x, g.int8Linear(context, D, D)]);
    const hidden = g.one('Relu', [g.int8Linear(g.layerNorm(x, D), D, ffn)]);
    x = g.one('Add', [x, g.int8Linear(hidden, ffn, D)]);
  }
  const pooled = g.one(
    'ReduceMean',
    [g.layerNorm(x, D)],
    [
      { name: 'axes', ints: [1] },
      { name: 'keepdims', int: 0 },
    ],
  );
  const summed = g.one('MatMul', [pooled, g.floats([D, 1], g.uniform(D, 1 / Math.sqrt(D)))]);
  return g.one('Mul', [g.one('Tanh', [summed]), g.floats([1], [DENSE_GAIN])]);
}

/** The ONNX file of a stand-in model, as bytes. */
export function buildStandInModel(options: StandInModelOptions = {}): Uint8Array {
  const inputName = options.inputName ?? SMART_TURN_INPUT_NAME;
  const outputName = options.outputName ?? SMART_TURN_OUTPUT_NAME;
  const inputDims = options.inputDims ?? ['batch', MELS, FRAMES];
  const inputType = ELEMENT_TYPES[options.inputType ?? 'float32'];
  const frames = typeof inputDims[2] === 'number' ? inputDims[2] : FRAMES;
  const g = new GraphBuilder(lcg(options.seed ?? 1));
  const x =
    inputType === DataType.FLOAT
      ? inputName
      : g.one('Cast', [inputName], [{ name: 'to', int: DataType.FLOAT }]);

  // e[t]: mean over the mels; drop = max e − mean of the last frames.
  const tail = new Float32Array(frames);
  tail.fill(1 / STAND_IN_TAIL_FRAMES, Math.max(0, frames - STAND_IN_TAIL_FRAMES));
  const energy = g.one(
    'ReduceMean',
    [x],
    [
      { name: 'axes', ints: [1] },
      { name: 'keepdims', int: 0 },
    ],
  );
  const peak = g.one(
    'ReduceMax',
    [energy],
    [
      { name: 'axes', ints: [1] },
      { name: 'keepdims', int: 1 },
    ],
  );
  const last = g.one('MatMul', [energy, g.floats([frames, 1], tail)]);
  const drop = g.one('Sub', [peak, last]);
  const centred = g.one('Sub', [drop, g.floats([1], [STAND_IN_THRESHOLD])]);
  let logit = g.one('Mul', [centred, g.floats([1], [STAND_IN_GAIN])]);

  const denseBytes = options.denseWeightBytes ?? 0;
  if (denseBytes > 0) {
    const features = MELS * frames;
    const hidden = Math.max(1, Math.round(denseBytes / features));
    const flat = g.reshape(x, [0, features]);
    const dense = g.int8Linear(flat, features, hidden);
    const summed = g.one('MatMul', [dense, g.floats([hidden, 1], g.uniform(hidden, 1 / Math.sqrt(hidden)))]);
    const nudge = g.one('Mul', [g.one('Tanh', [summed]), g.floats([1], [DENSE_GAIN])]);
    logit = g.one('Add', [logit, nudge]);
  }
  if (options.encoder) logit = g.one('Add', [logit, encoderBranch(g, x)]);
  g.nodes.push(node('Sigmoid', [logit], [outputName]));

  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = new Message();
  for (const n of g.nodes) graph.message(1, n);
  graph.string(2, 'smart_turn_stand_in');
  for (const t of g.initializers) graph.message(5, t);
  graph.message(11, valueInfo(inputName, inputType, inputDims));
  graph.message(
    12,
    valueInfo(outputName, DataType.FLOAT, [typeof inputDims[0] === 'number' ? inputDims[0] : 'batch', 1]),
  );

  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 }.
  return new Message()
    .int(1, 8)
    .string(2, 'cue-smart-turn-stand-in')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, 17))
    .finish();
}

/** Writes a stand-in model to `path`; returns its size in bytes. */
export function writeStandInModel(path: string, options: StandInModelOptions = {}): number {
  const bytes = buildStandInModel(options);
  writeFileSync(path, bytes);
  return bytes.length;
}

export type CorruptModelKind = 'truncated' | 'garbage' | 'empty';

/**
 * Writes a file that is not a loadable ONNX model: a valid stand-in cut in half, random
 * bytes, or nothing.
 */
export function writeCorruptModel(path: string, kind: CorruptModelKind = 'truncated'): void {
  if (kind === 'empty') {
    writeFileSync(path, new Uint8Array(0));
  } else if (kind === 'garbage') {
    const random = lcg(7);
    writeFileSync(
      path,
      Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256)),
    );
  } else {
    const bytes = buildStandInModel();
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
}

/**
 * What the stand-in (without its dense branch) computes, in plain TypeScript, from 80 × 800
 * features (row-major [mel][frame]): for tests that check the inference end to end.
 */
export function standInProbability(features: Float32Array, frames = FRAMES): number {
  const energy = new Float64Array(frames);
  for (let m = 0; m < MELS; m++) {
    for (let t = 0; t < frames; t++) energy[t]! += features[m * frames + t]! / MELS;
  }
  let peak = Number.NEGATIVE_INFINITY;
  for (const e of energy) peak = Math.max(peak, e);
  let tail = 0;
  for (let t = frames - STAND_IN_TAIL_FRAMES; t < frames; t++) tail += energy[t]! / STAND_IN_TAIL_FRAMES;
  return 1 / (1 + Math.exp(-STAND_IN_GAIN * (peak - tail - STAND_IN_THRESHOLD)));
}
