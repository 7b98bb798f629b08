/**
 * The operations of the app's own OpenAPI document (`GET /openapi.json`), in
 * the shape the fuzzer draws requests from: a route added later is fuzzed
 * without touching the fuzzer.
 */

export type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  example?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  method: string;
  /** The OpenAPI path, `/api/tasks/{taskId}/decision`. */
  path: string;
  /** `POST /api/tasks/{taskId}/decision`: how reports and coverage name it. */
  id: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  jsonBody?: Schema;
  formBody?: Schema;
  secured: boolean;
}

export interface ApiDocument {
  operations: Operation[];
  resolve(schema: Schema): Schema;
}

export function readDocument(doc: any): ApiDocument {
  const components: Record<string, Schema> = doc.components?.schemas ?? {};
  const resolve = (schema: Schema): Schema => {
    let s = schema;
    for (let hops = 0; s.$ref && hops < 20; hops++) s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
    return s;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const content = op.requestBody?.content ?? {};
      const parameters: Parameter[] = op.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        id: `${method.toUpperCase()} ${path}`,
        pathParams: parameters.filter((p) => p.in === 'path'),
        queryParams: parameters.filter((p) => p.in === 'query'),
        jsonBody: content['application/json']?.schema,
        formBody: content['multipart/form-data']?.schema,
        secured: Boolean(op.security?.length),
      });
    }
  }
  return { operations, resolve };
}

export const typeOf = (schema: Schema): string | undefined =>
  [schema.type ?? []].flat().find((t) => t !== 'null') ??
  (schema.properties || schema.additionalProperties ? 'object' : undefined);
