// The admin API's OpenAPI document is made from the route schemas: it is a
// valid OpenAPI 3 document (checked by swagger-parser), it is served without
// the token, and every route of the API is in it with its answers.

import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminPorts } from '../../src/api/ports.js';
import { ADMIN_PREFIX, OPENAPI_PATH } from '../../src/api/routes.js';
import { createAdminApi } from '../../src/api/server.js';

const ports = new Proxy({} as AdminPorts, { get: () => () => Promise.reject(new Error('not reached')) });
const app = createAdminApi({ ports, token: 'test-token-0123456789', version: '9.9.9' });
const routes: { method: string; path: string }[] = [];
app.addHook('onRoute', (route) => {
  if (!route.url.startsWith(ADMIN_PREFIX)) return;
  for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method: method.toLowerCase(), path: route.url.replace(/:(\w+)/g, '{$1}') });
});
let doc: OpenAPIV3.Document;

beforeAll(async () => {
  await app.ready();
  const res = await app.inject({ method: 'GET', url: OPENAPI_PATH });
  expect(res.statusCode).toBe(200);
  doc = res.json<OpenAPIV3.Document>();
});
afterAll(() => app.close());

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('9.9.9');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('has every route of the API, each with its success and error answers, behind the token', () => {
    expect(routes.length).toBeGreaterThanOrEqual(29);
    for (const { method, path } of routes) {
      const op = (doc.paths[path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(Object.keys(op?.responses ?? {}).sort(), `${method} ${path}`).toEqual(['200', '4XX', '5XX']);
      expect(op?.summary, `${method} ${path}`).toBeTruthy();
    }
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item ?? {}).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(doc.security).toEqual([{ token: [] }]);
    expect(doc.components?.securitySchemes?.token).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes bodies from the same schemas that validate them', () => {
    const addTask = (doc.paths[`${ADMIN_PREFIX}/tasks`] as Record<string, OpenAPIV3.OperationObject>).post;
    const body = (addTask?.requestBody as OpenAPIV3.RequestBodyObject).content['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect(body.required).toEqual(expect.arrayContaining(['name', 'sharePath', 'peer', 'pool']));
    expect(Object.keys(body.properties ?? {})).toEqual(expect.arrayContaining(['retries', 'retryBackoffMs', 'keepRemote', 'onDegradedTarget']));
    const run = (doc.paths[`${ADMIN_PREFIX}/runs/{id}`] as Record<string, OpenAPIV3.OperationObject>).get;
    const answer = (run?.responses['200'] as OpenAPIV3.ResponseObject).content?.['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect((answer.properties?.state as OpenAPIV3.SchemaObject).enum).toEqual(['queued', 'running', 'succeeded', 'failed', 'interrupted', 'cancelled']);
  });
});
