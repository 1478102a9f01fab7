/**
 * Public API of the shared contracts (docs/architecture.md): what the edge, the HQ push tool, the simulator and the
 * demo agree on — the event schemas (HQ/POS → edge, published as docs/asyncapi.json), the label rules, GTIN
 * arithmetic, the content a label shows, and the audit report the edge answers, the store's request inputs and the error catalogue (codes that travel in
 * replies). zod schemas, types derived from them, one error class; nothing that does I/O. Everything outside this folder imports from here only (`#contracts`, D79).
 */
export * from './gtin.js';
export * from './rule-schemas.js';
export * from './event-schemas.js';
export * from './label-content.js';
export * from './audit-report.js';
export * from './request-schemas.js';
export * from './errors.js';
