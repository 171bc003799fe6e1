import { z } from 'zod';
import { compileCondition } from './condition';

// The parts of a load balancer rule (SPEC §9) that do not name the load balancer's own
// settings; src/config/schema.ts puts them together with the overrides. A Worker cannot
// answer 1xx itself, so a fixed response's status is 200 to 599.

/** The most rules a load balancer holds; each is compiled once per snapshot and tried in order per request. */
export const MAX_RULES = 100;
/** The most a fixed response's body may hold (characters). */
export const MAX_FIXED_BODY = 64 * 1024;

const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'a header value may not hold CR, LF or NUL');

/** A condition that compiles; otherwise an issue whose message names the column. */
export const conditionSchema = z.string().superRefine((source, ctx) => {
  const compiled = compileCondition(source);
  if (compiled.ok) return;
  const column = `column ${compiled.column}`;
  ctx.addIssue({ code: 'custom', message: compiled.message.includes(column) ? compiled.message : `${compiled.message} (${column})` });
});

export const fixedResponseSchema = z
  .strictObject({
    status_code: z.number().int().min(200).max(599).default(200),
    content_type: headerValue.optional(),
    message_body: z.string().max(MAX_FIXED_BODY).default(''),
    location: headerValue.optional(),
  })
  .nullable()
  .default(null);

export const ruleFields = {
  name: z.string().min(1).max(256),
  priority: z.number().int().min(0).max(1_000_000).default(0),
  disabled: z.boolean().default(false),
  terminates: z.boolean().default(false),
  condition: conditionSchema,
  fixed_response: fixedResponseSchema,
};
