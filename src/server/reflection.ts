// gRPC server reflection, v1 and its predecessor v1alpha, so that grpcurl,
// grpcui and buf curl can list and describe the services without the .proto
// files. Written here because no maintained package for Connect-ES v2 can be
// installed from the npm registry this project uses.
//
// The descriptors served are `buf build`'s (gen/descriptors.binpb, written by
// `npm run generate`), not those embedded in the generated code: only buf's keep
// the source info, so that `grpcurl describe` shows the proto's comments.

import { readFileSync } from "node:fs";
import {
  create,
  createFileRegistry,
  createRegistry,
  type DescFile,
  type DescService,
  fromBinary,
  type Registry,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** `buf build` output beside the generated code (copied next to it by the production build). */
const DESCRIPTORS = new URL("../../gen/descriptors.binpb", import.meta.url);

/**
 * Serves reflection for the given services and for the reflection services themselves;
 * `files`: more files to describe beside the services' own, such as the error details' types.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[], files: readonly DescFile[] = []): void {
  const described = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTORS)));
  const missing = (name: string) => new Error(`${DESCRIPTORS.pathname} lacks ${name}: run npm run generate`);
  const reflected = new ReflectedDescriptors(
    [...services, v1.ServerReflection, v1alpha.ServerReflection].map((service) => {
      const withComments = described.getService(service.typeName);
      if (withComments === undefined) throw missing(service.typeName);
      return withComments;
    }),
    files.map((file) => {
      const withComments = described.getFile(file.proto.name);
      if (withComments === undefined) throw missing(file.proto.name);
      return withComments;
    }),
  );

  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield reflected.answer(request);
    },
  });
  // v1alpha messages are v1's under another package: same fields, same wire format.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        const answer = reflected.answer(
          fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, request)),
        );
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, answer));
      }
    },
  });
}

class ReflectedDescriptors {
  private readonly serviceNames: string[];
  private readonly filesByName = new Map<string, DescFile>();
  private readonly registry: Registry;

  constructor(services: readonly DescService[], files: readonly DescFile[]) {
    this.serviceNames = services.map((service) => service.typeName).sort();
    for (const file of withImports([...services.map((service) => service.file), ...files])) {
      this.filesByName.set(fileName(file), file);
    }
    this.registry = createRegistry(...this.filesByName.values());
  }

  answer(request: v1.ServerReflectionRequest): v1.ServerReflectionResponse {
    return create(v1.ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse: this.respond(request.messageRequest),
    });
  }

  private respond(query: v1.ServerReflectionRequest["messageRequest"]): v1.ServerReflectionResponse["messageResponse"] {
    switch (query.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: create(v1.ListServiceResponseSchema, {
            service: this.serviceNames.map((name) => create(v1.ServiceResponseSchema, { name })),
          }),
        };
      case "fileByFilename":
        return this.files(this.filesByName.get(query.value), `file "${query.value}"`);
      case "fileContainingSymbol":
        return this.files(this.fileDeclaring(query.value), `symbol "${query.value}"`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = query.value;
        const extendee = this.registry.getMessage(containingType);
        const extension = extendee && this.registry.getExtensionFor(extendee, extensionNumber);
        return this.files(extension?.file, `extension ${extensionNumber} of "${containingType}"`);
      }
      case "allExtensionNumbersOfType": {
        if (this.registry.getMessage(query.value) === undefined) return notFound(`type "${query.value}"`);
        const numbers: number[] = [];
        for (const desc of this.registry) {
          if (desc.kind === "extension" && desc.extendee.typeName === query.value) numbers.push(desc.number);
        }
        return {
          case: "allExtensionNumbersResponse",
          value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: query.value, extensionNumber: numbers }),
        };
      }
      case undefined:
        return error(Code.InvalidArgument, "the request asks nothing");
    }
  }

  /** The file declaring a type, service, method or field, by its fully qualified name. */
  private fileDeclaring(symbol: string): DescFile | undefined {
    const declared = this.registry.get(symbol);
    if (declared !== undefined) return declared.file;
    const dot = symbol.lastIndexOf(".");
    const parent = this.registry.get(symbol.slice(0, dot));
    const member = symbol.slice(dot + 1);
    if (parent?.kind === "service" && parent.methods.some((method) => method.name === member)) return parent.file;
    if (parent?.kind === "message" && parent.fields.some((field) => field.name === member)) return parent.file;
    return undefined;
  }

  /** The file with its imports, as reflection clients expect. */
  private files(file: DescFile | undefined, what: string): v1.ServerReflectionResponse["messageResponse"] {
    if (file === undefined) return notFound(what);
    return {
      case: "fileDescriptorResponse",
      value: create(v1.FileDescriptorResponseSchema, {
        fileDescriptorProto: withImports([file]).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
      }),
    };
  }
}

/** The given files first, then every file they import, directly or not, each once. */
function withImports(files: readonly DescFile[]): DescFile[] {
  const found = new Map<string, DescFile>();
  const add = (file: DescFile): void => {
    if (found.has(file.name)) return;
    found.set(file.name, file);
    file.dependencies.forEach(add);
  };
  files.forEach(add);
  return [...found.values()];
}

function fileName(file: DescFile): string {
  return `${file.name}.proto`;
}

function notFound(what: string): v1.ServerReflectionResponse["messageResponse"] {
  return error(Code.NotFound, `${what} not found`);
}

function error(code: Code, message: string): v1.ServerReflectionResponse["messageResponse"] {
  return { case: "errorResponse", value: create(v1.ErrorResponseSchema, { errorCode: code, errorMessage: message }) };
}
