/**
 * Splits a Piper voice (one VITS graph: text encoder, duration predictor, flow, then the
 * HiFi-GAN decoder) into three ONNX models, so that the flow and the decoder can run on
 * windows of frames:
 * - encoder: the voice's inputs (input, input_lengths, scales [, sid]) plus `duration_scale`
 *   → the flow's inputs (the prior's latent frames z_p and the frame mask, each
 *   [1, channels, frames]) and `durations` (the frames each phoneme id lasts);
 * - flow: the flow's inputs [, sid] → `z`, the latent frames the decoder reads;
 * - decoder: `z` [, sid for the speaker conditioning] → the voice's output samples.
 * The flow and the decoder are convolutional over frames, so a window of frames with enough
 * context on each side gives what one run over all frames gives; the encoder is not (its
 * attention sees the whole sentence) and runs once per sentence.
 *
 * `duration_scale` stretches the model's own rounded durations by an exact ratio. The
 * voice's length_scale cannot: it scales each id's duration before it is rounded up to whole
 * frames, and about half the ids (the pads between phonemes) last under one frame, so they
 * stay at one whatever the scale (speed 0.8 lengthened a sentence 1.11x, 0.5 only 1.75x).
 * The encoder scales the rounded durations and rounds their running total instead, so the
 * sentence's frames scale by the ratio within one frame; at 1 every duration is the model's
 * own, so the audio stays Piper's to the bit (the self-check proves it at load).
 *
 * The cuts are found by weights, not node names (older exports lack them): the decoder's
 * starts at the tensor its first convolution (`dec.conv_pre.weight`) reads, which is `z`;
 * the flow's where the fewest tensors computed from the text cross into the nodes before the
 * first that reads a flow weight (`flow.*`): z_p and the frame mask in Piper's exports.
 * Pure: bytes in, bytes out.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "../../gen/onnx/onnx_pb.js";

/** The initializer of the decoder's first convolution (VITS `dec.conv_pre`). */
export const DECODER_FIRST_WEIGHT = "dec.conv_pre.weight";
/** How the flow's weights are named (VITS `flow.flows.<n>...`). */
const FLOW_WEIGHT_PREFIX = "flow.";
/** Flow output and decoder input: latent frames, [1, channels, frames]. */
export const LATENT = "z";
/** Encoder output: frames per phoneme id, [1, 1, ids]. */
export const DURATIONS = "durations";
/** Encoder input: the ratio the durations are stretched by, float [1]; 1 is the model's own. */
export const DURATION_SCALE = "duration_scale";
/**
 * Part of the parts' file names: bumped whenever the split's output changes, so parts
 * cached beside a voice by an older version are not loaded.
 */
export const SPLIT_FORMAT = 4;
/** CumSum and Round, which the duration scaling adds, are in the default domain from opset 11. */
const MIN_OPSET = 11;

export type VoiceSplit =
  | { readonly encoder: Uint8Array; readonly flow: Uint8Array; readonly decoder: Uint8Array }
  | { readonly reason: string };

export function splitVoice(modelBytes: Uint8Array): VoiceSplit {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, modelBytes);
  } catch (error) {
    return { reason: `the model is not an ONNX protobuf: ${(error as Error).message}` };
  }
  const graph = model.graph;
  if (!graph) return { reason: "the model has no graph" };
  if (graph.node.some((node) => node.attribute.some((a) => a.g || a.graphs.length > 0)))
    return { reason: "the graph has control-flow subgraphs, which the split does not follow" };
  if (graph.sparseInitializer.length > 0) return { reason: "the graph has sparse initializers" };

  const consumers = graph.node.filter((node) => node.input.includes(DECODER_FIRST_WEIGHT));
  if (consumers.length !== 1)
    return { reason: `${consumers.length} nodes read the initializer ${DECODER_FIRST_WEIGHT} (the decoder's first convolution), not 1` };
  const latent = consumers[0]!.input[0]!;
  const ceils = graph.node.filter((node) => node.opType === "Ceil" && node.domain === "");
  if (ceils.length !== 1) return { reason: `the graph has ${ceils.length} Ceil nodes, not the one that rounds the durations` };
  const opset = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 0n;
  if (opset < MIN_OPSET) return { reason: `the model's opset is ${opset}; scaling durations needs ${MIN_OPSET} or later` };
  const rounded = ceils[0]!.output[0]!;

  const initializers = new Set(graph.initializer.map((t) => t.name));
  const graphInputs = new Set(graph.input.map((v) => v.name));
  const producer = new Map<string, number>();
  const index = (): void =>
    graph.node.forEach((node, at) => {
      for (const output of node.output) if (output) producer.set(output, at);
    });
  index();
  const names = new Set([...producer.keys(), ...initializers, ...graphInputs]);
  for (const name of [LATENT, DURATIONS, DURATION_SCALE, ...SCALING_TENSORS])
    if (names.has(name)) return { reason: `the graph already has a tensor named ${name}` };
  insertDurationScaling(graph, rounded);
  index();

  /** Indices of the nodes `targets` depend on, not looking past `stops`. */
  const slice = (targets: string[], stops: ReadonlySet<string> = new Set()): Set<number> => {
    const nodes = new Set<number>();
    const pending = [...targets];
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (stops.has(name)) continue;
      const index = producer.get(name);
      if (index === undefined || nodes.has(index)) continue;
      nodes.add(index);
      for (const input of graph.node[index]!.input) if (input) pending.push(input);
    }
    return nodes;
  };
  const decoderNodes = slice(
    graph.output.map((v) => v.name),
    new Set([latent]),
  );
  const flowInputs = flowCut(graph, slice([latent]), producer, initializers);
  if ("reason" in flowInputs) return flowInputs;
  const flowNodes = slice([latent], new Set(flowInputs.tensors));
  const encoderNodes = slice([...flowInputs.tensors, DURATIONS]);

  // The flow and the decoder may read the voice's own inputs (sid, for the speaker
  // embedding), but of what the parts before them compute only their cut: the flow's inputs,
  // and z.
  const reads = (nodes: Set<number>, cut: Set<string>): string | undefined => {
    const produced = new Set([...nodes].flatMap((i) => graph.node[i]!.output));
    for (const index of nodes)
      for (const input of graph.node[index]!.input)
        if (input && !cut.has(input) && !produced.has(input) && !initializers.has(input) && !graphInputs.has(input)) return input;
    return undefined;
  };
  const stray = reads(decoderNodes, new Set([latent]));
  if (stray) return { reason: `the decoder reads ${stray}, which the encoder computes, besides the latent frames` };
  const flowStray = reads(flowNodes, new Set(flowInputs.tensors));
  if (flowStray) return { reason: `the flow reads ${flowStray}, which the encoder computes, besides its inputs` };

  const rename = (name: string): string => (name === latent ? LATENT : name);
  const typed = new Map(graph.valueInfo.map((v) => [v.name, v]));
  const tensorInfo = (name: string): ValueInfoProto =>
    create(ValueInfoProtoSchema, {
      ...(typed.get(name) ?? { type: { value: { case: "tensorType", value: { elemType: TensorProto_DataType.FLOAT } } } }),
      name: rename(name),
    });

  // z as [1, channels, frames], channels from the decoder's first convolution (weight
  // [out, in, kernel]): a worker holding only the decoder can warm it up without the encoder.
  const channels = graph.initializer.find((t) => t.name === DECODER_FIRST_WEIGHT)?.dims[1];
  const latentInfo = create(ValueInfoProtoSchema, {
    name: LATENT,
    type: {
      value: {
        case: "tensorType",
        value: {
          elemType: TensorProto_DataType.FLOAT,
          shape: {
            dim: [
              { value: { case: "dimValue", value: 1n } },
              channels === undefined
                ? { value: { case: "dimParam", value: "channels" } }
                : { value: { case: "dimValue", value: channels } },
              { value: { case: "dimParam", value: "frames" } },
            ],
          },
        },
      },
    },
  });

  const part = (indices: Set<number>, extraInputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array => {
    const nodes: NodeProto[] = graph.node
      .filter((_, index) => indices.has(index))
      .map((node) => create(NodeProtoSchema, { ...node, input: node.input.map(rename), output: node.output.map(rename) }));
    const used = new Set(nodes.flatMap((node) => [...node.input, ...node.output]));
    const outputNames = new Set(outputs.map((v) => v.name));
    return toBinary(
      ModelProtoSchema,
      create(ModelProtoSchema, {
        ...model,
        graph: create(GraphProtoSchema, {
          ...graph,
          node: nodes,
          initializer: graph.initializer.filter((t) => used.has(t.name)),
          input: [...extraInputs, ...graph.input.filter((v) => used.has(v.name))],
          output: outputs,
          valueInfo: graph.valueInfo.filter((v) => used.has(v.name) && !outputNames.has(v.name)),
        }),
      }),
    );
  };
  return {
    encoder: part(encoderNodes, [tensorInfo(DURATION_SCALE)], [...flowInputs.tensors.map(tensorInfo), tensorInfo(DURATIONS)]),
    flow: part(flowNodes, flowInputs.tensors.map(tensorInfo), [latentInfo]),
    decoder: part(decoderNodes, [latentInfo], graph.output),
  };
}

/**
 * The tensors the flow reads from the encoder: of the positions between the node that
 * rounds the durations and the first node that reads a flow weight (the graph's nodes are in
 * order), the last where the fewest tensors computed from the text are made before it and
 * read after it, by nodes the latent frames depend on. Tensors computed from the voice's
 * weights and inputs alone (the speaker's embedding) are not cut: the flow computes them
 * again.
 */
function flowCut(
  graph: GraphProto,
  toLatent: Set<number>,
  producer: Map<string, number>,
  initializers: Set<string>,
): { tensors: string[] } | { reason: string } {
  const firstFlow = Math.min(
    ...[...toLatent].filter((i) => graph.node[i]!.input.some((input) => input.startsWith(FLOW_WEIGHT_PREFIX) && initializers.has(input))),
  );
  if (!Number.isFinite(firstFlow)) return { reason: `no node the latent frames depend on reads a flow weight (${FLOW_WEIGHT_PREFIX}*)` };
  const afterDurations = producer.get(DURATIONS)! + 1;
  if (afterDurations > firstFlow) return { reason: "the flow starts before the durations are rounded" };

  // Tensors that depend on the text (the voice's `input`), with their producer and last reader.
  const fromText = new Set(["input"]);
  const lastReader = new Map<string, number>();
  graph.node.forEach((node, index) => {
    if (node.input.some((input) => fromText.has(input))) for (const output of node.output) fromText.add(output);
    if (!toLatent.has(index)) return;
    for (const input of node.input) if (fromText.has(input) && producer.has(input)) lastReader.set(input, index);
  });
  let best: string[] | undefined;
  for (let at = afterDurations; at <= firstFlow; at++) {
    const tensors = [...lastReader].filter(([name, last]) => producer.get(name)! < at && last >= at).map(([name]) => name);
    if (!best || tensors.length <= best.length) best = tensors;
  }
  return { tensors: best! };
}

const SCALING_TENSORS = [
  "duration_scale/scaled",
  "duration_scale/axis",
  "duration_scale/ends",
  "duration_scale/starts",
  "duration_scale/ends_rounded",
  "duration_scale/starts_rounded",
];

/**
 * After the Ceil that rounds the durations, inserts `durations` = the rounded durations
 * times `duration_scale`, with their running total rounded: each id ends at
 * round(sum of the scaled durations up to it) and starts where the previous one ends. Every
 * node that read the Ceil's output reads `durations` instead.
 */
function insertDurationScaling(graph: GraphProto, rounded: string): void {
  const [scaled, axis, ends, starts, endsRounded, startsRounded] = SCALING_TENSORS as [string, string, string, string, string, string];
  for (const node of graph.node) node.input = node.input.map((input) => (input === rounded ? DURATIONS : input));
  graph.initializer.push(create(TensorProtoSchema, { name: axis, dataType: TensorProto_DataType.INT64, dims: [], int64Data: [-1n] }));
  const node = (opType: string, input: string[], output: string, exclusive = false): NodeProto =>
    create(NodeProtoSchema, {
      opType,
      name: output,
      input,
      output: [output],
      attribute: exclusive ? [create(AttributeProtoSchema, { name: "exclusive", type: AttributeProto_AttributeType.INT, i: 1n })] : [],
    });
  const at = graph.node.findIndex((n) => n.output.includes(rounded)) + 1;
  graph.node.splice(
    at,
    0,
    node("Mul", [rounded, DURATION_SCALE], scaled),
    node("CumSum", [scaled, axis], ends),
    node("CumSum", [scaled, axis], starts, true),
    node("Round", [ends], endsRounded),
    node("Round", [starts], startsRounded),
    node("Sub", [endsRounded, startsRounded], DURATIONS),
  );
}
