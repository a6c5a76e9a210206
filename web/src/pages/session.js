// session.js: who is logged in (GET /me) and what their role may do. The
// server decides every permission again; this only hides what would be
// refused.

import { get } from '../api.js';
import { t } from '../i18n.js';

let me = null;
let users = null; // Map id → username, read once (admins only)

// setMe keeps the principal of GET /me (or null after logout).
export function setMe(m) {
  me = m || null;
  users = null;
}

// getMe is the principal, or null without a session.
export function getMe() {
  return me;
}

// can says whether the role holds a permission of the API's route table:
// "write" (cases and their content), "annotate" (notes and tasks),
// "audit" (the audit log) or "admin".
export function can(perm) {
  const r = me?.role;
  switch (perm) {
    case 'write':
      return r === 'admin' || r === 'investigator';
    case 'annotate':
      return r === 'admin' || r === 'investigator' || r === 'reviewer';
    case 'audit':
      return r === 'admin' || r === 'reviewer';
    case 'admin':
      return r === 'admin';
  }
  return Boolean(me);
}

// userNames resolves user ids to names where the role may read the users
// (admins); others see their own name and ids.
export async function userNames(signal) {
  if (users) return users;
  const m = new Map();
  if (me) m.set(me.user_id, me.username);
  if (can('admin')) {
    try {
      for (const u of await get('/users', undefined, { signal })) m.set(u.id, u.username);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
  }
  users = m;
  return m;
}

// userName is the name of user id from names (see userNames), else "user #id".
export function userName(names, id) {
  if (!id) return '';
  return names?.get(id) ?? t('common.userId', { id });
}
