// OCI busybox bundles for unit and integration tests: the conformance suite's builder.
export * from '../../conformance/lib/bundle.js';
