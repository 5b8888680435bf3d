// The package's public surface: start a gateway from validated config, and the
// error codes and types that go with it. Everything else is internal.
export { loadConfig, type GatewayConfig, type JwtConfig } from './config.js';
export { configFromEnv, mergeConfig, readConfigFile } from './config-sources.js';
export { ConfigError, ERRORS, type ErrorCode, type GatewayError, type PathError } from './errors.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { startGateway, type Gateway, type GatewayAddresses } from './server.js';
