import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';
import { PATTERN_MESSAGES } from './http-schemas.ts';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function fieldsOf(err: FastifyError): { field: string; message: string }[] {
  const context = (err as { validationContext?: string }).validationContext ?? 'body';
  const issues = (err.validation ?? []) as AjvIssue[];
  const fields = issues.map((issue) => {
    let field = issue.instancePath ? issue.instancePath.slice(1).replaceAll('/', '.') : '';
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
      field = field ? `${field}.${issue.params.additionalProperty}` : issue.params.additionalProperty;
      message = 'is not a known field';
    } else if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
      field = field ? `${field}.${issue.params.missingProperty}` : issue.params.missingProperty;
      message = 'is required';
    } else if (issue.keyword === 'pattern' && typeof issue.params?.pattern === 'string') {
      message = PATTERN_MESSAGES[issue.params.pattern] ?? message;
    }
    return { field: field ? `${context}.${field}` : context, message };
  });
  // anyOf produces one issue per branch; one line per field is enough for people.
  const seen = new Set<string>();
  return fields.filter((f) => (seen.has(f.field) ? false : (seen.add(f.field), true)));
}

/** Framework errors that are the client's fault, by Fastify code (statuses and codes of the API's table only). */
const CLIENT_ERRORS: Record<
  string,
  { status: number; code: string; message: string; details?: { fields: { field: string; message: string }[] } }
> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than 64 KiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'Send the body as application/json',
    details: { fields: [{ field: 'headers.content-type', message: 'must be application/json' }] },
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'VALIDATION_FAILED', message: 'The JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'VALIDATION_FAILED', message: 'The body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'VALIDATION_FAILED', message: 'Content-Length is wrong' },
};

/** The API's error body: `details` is always there, `{}` when there is nothing more to say. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, details: details ?? {} } };
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string, details?: Record<string, unknown>) {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(code, message, details));
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or error handler
 * runs (a path that is not valid percent-encoding, a path parameter longer than maxParamLength).
 * Without it Fastify answers them with its own body, outside the API's error shape.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.info({ code: err.code }, 'bad request path');
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendError(reply, 400, 'VALIDATION_FAILED', 'A path parameter is too long', {
      fields: [{ field: 'params', message: 'is too long' }],
    });
  } else if (err.code === 'FST_ERR_BAD_URL') {
    void sendError(reply, 400, 'VALIDATION_FAILED', 'The path is not valid percent-encoded text', {
      fields: [{ field: 'params', message: 'is not valid percent-encoding' }],
    });
  } else {
    request.log.error({ err }, 'router error');
    void sendError(reply, 500, 'INTERNAL', `Something went wrong on our side (reference ${request.id})`);
  }
}

/**
 * The one place errors become responses: AppErrors keep their code; validation and framework
 * errors that are the client's fault become 4xx with the API's body; everything else is a
 * 500 that says nothing about internals and logs the cause under the request id.
 */
export function installErrorHandling(app: FastifyInstance) {
  // The API speaks JSON only. Fastify also parses text/plain by default, which turned a text body
  // into a 400 "body must be object" instead of naming the content type as every other media type's does. (text/plain is
  // also what a cross-site form can send without a CORS preflight.) Routes registered after this
  // inherit the removal.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.headers) reply.headers(err.headers);
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      return sendError(reply, err.status, err.code, err.message, err.details);
    }
    if (err.validation) {
      const fields = fieldsOf(err);
      const first = fields[0];
      const message = first ? `${first.field} ${first.message}` : 'The request is not valid';
      return sendError(reply, 400, 'VALIDATION_FAILED', message, { fields });
    }
    const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
    if (known) return sendError(reply, known.status, known.code, known.message, known.details);
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON|Unexpected token/i.test(err.message))) {
      return sendError(reply, 400, 'VALIDATION_FAILED', 'The body is not valid JSON');
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Any other framework 4xx (bad header, unsupported method...): keep the status, name it plainly.
      request.log.info({ code: err.code }, 'client error');
      // 400 is the table's VALIDATION_FAILED; any other status keeps a plain name.
      const code = err.statusCode === 400 ? 'VALIDATION_FAILED' : 'BAD_REQUEST';
      return sendError(reply, err.statusCode, code, 'The request could not be understood');
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL', `Something went wrong on our side (reference ${request.id})`);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`),
  );
}
