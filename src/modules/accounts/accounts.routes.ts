import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { forbidden } from '../../platform/errors.ts';
import { errors, IdParams, pageLimit } from '../../platform/http-schemas.ts';
import {
  AdminUser,
  SessionsResult,
  AuditQuery,
  AuditResult,
  AuthResult,
  authErrors,
  LoginBody,
  MeResult,
  PasswordBody,
  PasswordResult,
  ResetBody,
  ResetLink,
  RoleBody,
  SignupBody,
  SuspensionBody,
  SuspensionResult,
  UsersQuery,
} from './accounts.schemas.ts';
import type { AccountsService } from './accounts.service.ts';
import { accountRateLimit, type Auth, isSameOrigin, requirePrincipal, SESSION_COOKIE } from './auth.ts';

export interface AccountsRoutesOptions {
  accounts: AccountsService;
  auth: Auth;
  /** Per-IP limits for the expensive, guessable routes. */
  limits: { signupPerMinute: number; loginPerMinute: number };
}

const tags = ['accounts'];

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, { accounts, auth, limits }) => {
  function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: number) {
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: request.protocol === 'https',
      path: '/',
      expires: new Date(expiresAt),
    });
  }

  // A page on another site must not be able to sign a visitor into an account of its choosing.
  function refuseCrossSite(request: FastifyRequest) {
    if ((request.headers.origin !== undefined || request.headers['sec-fetch-site'] !== undefined) && !isSameOrigin(request)) {
      throw forbidden('Cross-site request refused');
    }
  }

  app.post(
    '/api/auth/signup',
    {
      schema: {
        tags,
        summary: 'Create a buyer account and sign in',
        body: SignupBody,
        response: { 201: AuthResult, ...authErrors },
      },
      config: { rateLimit: { max: limits.signupPerMinute, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      refuseCrossSite(request);
      const session = await accounts.signup(request.body, 'buyer', request.headers['user-agent']);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      return reply.code(201).send({ user: session.user, token: session.token });
    },
  );

  app.post(
    '/api/auth/login',
    {
      schema: { tags, summary: 'Sign in', body: LoginBody, response: { 200: AuthResult, ...authErrors } },
      config: { rateLimit: { max: limits.loginPerMinute, timeWindow: 60_000 } },
      // Also per e-mail address, whatever the caller's address: guesses spread over many
      // addresses at one account are held back as well.
      preHandler: accountRateLimit(app, 'login', limits.loginPerMinute, (request) =>
        (request.body as { email?: string } | undefined)?.email?.trim().toLowerCase(),
      ),
    },
    async (request, reply) => {
      refuseCrossSite(request);
      const session = await accounts.login(request.body, request.headers['user-agent']);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      return { user: session.user, token: session.token };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...errors(401, 403) } },
      preHandler: auth.user,
    },
    async (request, reply) => {
      await accounts.logout(requirePrincipal(request));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/me',
    { schema: { tags, summary: 'The signed-in user', response: { 200: MeResult, ...errors(401) } }, preHandler: auth.user },
    async (request) => ({ user: await accounts.me(requirePrincipal(request)) }),
  );

  app.post(
    '/api/me/password',
    {
      schema: {
        tags,
        summary: 'Change my password (the current one first); every other session of the account is signed out',
        body: PasswordBody,
        response: { 200: PasswordResult, ...errors(400, 401, 403, 413, 429) },
      },
      config: { rateLimit: { max: limits.loginPerMinute, timeWindow: 60_000 } },
      preHandler: [auth.user, accountRateLimit(app, 'password', limits.loginPerMinute)],
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return accounts.changePassword(requirePrincipal(request), request.body);
    },
  );

  app.post(
    '/api/auth/password-reset',
    {
      schema: {
        tags,
        summary: 'Set a new password through a reset link an admin handed out; every session of the account ends',
        body: ResetBody,
        response: { 200: PasswordResult, ...errors(400, 403, 413, 429) },
      },
      config: { rateLimit: { max: limits.loginPerMinute, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      refuseCrossSite(request);
      reply.header('cache-control', 'private, no-store');
      return accounts.resetPassword(request.body);
    },
  );

  app.get(
    '/api/me/sessions',
    {
      schema: {
        tags,
        summary: 'My signed-in devices (live sessions), newest first; `current` is this one',
        response: { 200: SessionsResult, ...errors(401) },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return { sessions: await accounts.sessions(requirePrincipal(request)) };
    },
  );

  app.delete(
    '/api/me/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Sign one of my devices out (404 for a session that is not mine or not live)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      await accounts.endSession(requirePrincipal(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        tags,
        summary: "Change a user's role (admin)",
        params: IdParams,
        body: RoleBody,
        response: { 200: MeResult, ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.role('admin'),
    },
    async (request) => ({ user: await accounts.changeRoleAs(requirePrincipal(request), request.params.id, request.body.role) }),
  );

  app.post(
    '/api/admin/users/:id/suspension',
    {
      schema: {
        tags,
        summary: 'Suspend an account (it cannot sign in; its sessions end) or restore it (admin; not their own account)',
        params: IdParams,
        body: SuspensionBody,
        response: { 200: SuspensionResult, ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.role('admin'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return accounts.setSuspendedAs(requirePrincipal(request), request.params.id, request.body.suspended);
    },
  );

  app.post(
    '/api/admin/users/:id/password-reset',
    {
      schema: {
        tags,
        summary: 'A password-reset link for an account that cannot sign in, to hand over (admin; good for 24 hours, once)',
        params: IdParams,
        response: { 201: ResetLink, ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.role('admin'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return reply.code(201).send(await accounts.issuePasswordReset(requirePrincipal(request), request.params.id));
    },
  );

  app.get(
    '/api/admin/audit',
    {
      schema: {
        tags,
        summary: 'What was done to accounts (roles, suspensions, password changes), newest first (admin)',
        querystring: AuditQuery,
        response: { 200: AuditResult, ...errors(400, 401, 403) },
      },
      preHandler: auth.role('admin'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      const { target, before, limit } = request.query;
      return accounts.audit({ targetId: target }, before, pageLimit(limit));
    },
  );

  app.get(
    '/api/admin/users',
    {
      schema: {
        tags,
        summary: 'Find accounts by a piece of their e-mail or name, or their id, newest first (admin)',
        querystring: UsersQuery,
        response: { 200: Type.Object({ users: Type.Array(AdminUser) }), ...errors(400, 401, 403) },
      },
      preHandler: auth.role('admin'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      const { q, limit } = request.query;
      return { users: await accounts.findUsers(q, pageLimit(limit)) };
    },
  );
};
