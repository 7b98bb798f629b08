/**
 * The failure converter of every client, worker and workflow bundle of the
 * product (platform/codec.ts, FAILURE_CONVERTER_PATH): a failure's message
 * and stack trace — a refusal that names a person, a rectification title, an
 * activity error quoting a value — move into the failure's encoded
 * attributes, a payload the codec seals like any other. Temporal stores
 * "Encoded failure" in their place; the failure's type (the refusal code the
 * API maps to its status) stays readable.
 *
 * CommonJS on purpose: the SDK loads it by path with require() — in the
 * worker and the clients, under tsx or vitest alike — and webpack bundles it
 * into the workflow sandbox.
 */
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
