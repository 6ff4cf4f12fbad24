/**
 * Splits a Piper voice (one VITS graph: text encoder, duration predictor and flow, then
 * the HiFi-GAN decoder) into two ONNX models, so that the decoder can run on windows of
 * latent frames:
 * - encoder: the voice's inputs (input, input_lengths, scales [, sid]) → `z` (the latent
 *   frames the decoder reads) and `durations` (the frames each phoneme id lasts, the
 *   model's own ceil'd durations);
 * - decoder: `z` [, sid for the speaker conditioning] → the voice's output samples.
 *
 * The cut is found by the decoder's first convolution weight, `dec.conv_pre.weight`: the
 * tensor that convolution reads is `z`. Node names are not used (older exports lack them).
 * Pure: bytes in, bytes out.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  TensorProto_DataType,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "../../gen/onnx/onnx_pb.js";

/** The initializer of the decoder's first convolution (VITS `dec.conv_pre`). */
export const DECODER_FIRST_WEIGHT = "dec.conv_pre.weight";
/** Encoder output and decoder input: latent frames, [1, channels, frames]. */
export const LATENT = "z";
/** Encoder output: frames per phoneme id, [1, 1, ids]. */
export const DURATIONS = "durations";

export type VoiceSplit = { readonly encoder: Uint8Array; readonly decoder: Uint8Array } | { readonly reason: string };

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
  const durations = ceils[0]!.output[0]!;

  const initializers = new Set(graph.initializer.map((t) => t.name));
  const graphInputs = new Set(graph.input.map((v) => v.name));
  const producer = new Map<string, number>();
  graph.node.forEach((node, index) => {
    for (const output of node.output) if (output) producer.set(output, index);
  });
  const names = new Set([...producer.keys(), ...initializers, ...graphInputs]);
  for (const name of [LATENT, DURATIONS]) if (names.has(name)) return { reason: `the graph already has a tensor named ${name}` };

  /** Indices of the nodes `targets` depend on, not looking past `stop`. */
  const slice = (targets: string[], stop: string | undefined): Set<number> => {
    const nodes = new Set<number>();
    const pending = [...targets];
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (name === stop) continue;
      const index = producer.get(name);
      if (index === undefined || nodes.has(index)) continue;
      nodes.add(index);
      for (const input of graph.node[index]!.input) if (input) pending.push(input);
    }
    return nodes;
  };
  const decoderNodes = slice(
    graph.output.map((v) => v.name),
    latent,
  );
  const encoderNodes = slice([latent, durations], undefined);

  // The decoder may read the voice's own inputs (sid, for the speaker embedding), but no
  // tensor the encoder computes other than z.
  const produced = new Set([...decoderNodes].flatMap((i) => graph.node[i]!.output));
  for (const index of decoderNodes) {
    for (const input of graph.node[index]!.input) {
      if (!input || input === latent || produced.has(input) || initializers.has(input) || graphInputs.has(input)) continue;
      return { reason: `the decoder reads ${input}, which the encoder computes, besides the latent frames` };
    }
  }

  const rename = (name: string): string => (name === latent ? LATENT : name === durations ? DURATIONS : name);
  const typed = new Map(graph.valueInfo.map((v) => [v.name, v]));
  const tensorInfo = (name: string): ValueInfoProto =>
    create(ValueInfoProtoSchema, {
      ...(typed.get(name) ?? { type: { value: { case: "tensorType", value: { elemType: TensorProto_DataType.FLOAT } } } }),
      name: rename(name),
    });

  const part = (indices: Set<number>, extraInputs: string[], outputs: ValueInfoProto[]): Uint8Array => {
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
          input: [...extraInputs.map(tensorInfo), ...graph.input.filter((v) => used.has(v.name))],
          output: outputs,
          valueInfo: graph.valueInfo.filter((v) => used.has(v.name) && !outputNames.has(v.name)),
        }),
      }),
    );
  };
  return {
    encoder: part(encoderNodes, [], [tensorInfo(latent), tensorInfo(durations)]),
    decoder: part(decoderNodes, [latent], graph.output),
  };
}
