export { createAccountsRepository, insertAuditLine, type AccountsRepository } from './accounts.repository.ts';
export { accountsRoutes } from './accounts.routes.ts';
export { ROLES, type Role, type User } from './accounts.schemas.ts';
export { createAccountsService, type AccountsService } from './accounts.service.ts';
export { accountRateLimit, createAuth, requirePrincipal, SESSION_COOKIE, type Auth } from './auth.ts';
export { createSessionGuard, type Principal, type SessionGuard } from './session-guard.ts';
