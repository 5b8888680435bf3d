// Node-RED settings for the integration test: headless, local only, no
// credential encryption (the test writes a throwaway flows_cred.json).
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: false,
  httpAdminRoot: '/admin',
  httpNodeRoot: false,
  disableEditor: true,
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
};
