// Package auth is etcd's authentication and authorization, as etcd 3.7
// has them: users with bcrypt passwords, roles with READ/WRITE/READWRITE
// permissions on keys, ranges and prefixes, the root user and role, the
// auth revision, and the two kinds of token (simple and JWT).
//
// Three parts:
//
//   - State is an immutable snapshot of the auth store with etcd's
//     permission checks (IsRangePermitted, IsPutPermitted,
//     IsAdminPermitted, ...).
//   - Apply is the state machine of the auth operations (AuthEnable,
//     AuthUserAdd, ..., Authenticate): a deterministic function of the
//     database state and the operation, run by the engine's group-commit
//     writer. Passwords arrive already hashed, as etcd 3.5+ hashes them
//     before proposing.
//   - Store is one process's view: the current State, refreshed after
//     local changes and by polling the database for other processes'
//     changes, and the token provider.
package auth
