"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useEffect, useId, useState, type FormEvent } from "react";
import { fieldErrors, useTRPC } from "@/app/_trpc/client";
import { ROLE_LABELS, ROLES, type Role } from "@/contracts/console/permissions";
import type { AppRouter } from "@/server/trpc/routers/_app";
import { Dialog, SecretBox } from "../../_components/dialog";
import { errorMessage, formErrors } from "../../_components/errors";
import { useMe } from "../../_components/session";

type Outputs = inferRouterOutputs<AppRouter>;
type UserRow = Outputs["admin"]["users"]["list"]["items"][number];
type Participant = Outputs["admin"]["participants"][number];

const FIELDS = ["name", "email", "role", "participantId", "regions", "password"] as const;

const useDebounced = <T,>(value: T, ms: number) => {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
};

/** A form-level message for an error whose parts did not land on a field. */
const FormError = ({ error, byField, other }: { error: unknown; byField: Record<string, string>; other: string[] }) => {
  if (!error) return null;
  const onFields = Object.keys(byField).length > 0;
  if (onFields && other.length === 0) return null;
  return (
    <div className="alert alert-error" role="alert" data-testid="form-error">
      <p>{other.length ? other.join(" ") : errorMessage(error)}</p>
    </div>
  );
};

const FieldError = ({ id, name, message }: { id: string; name: string; message?: string }) =>
  message ? (
    <span className="field-error" id={id} data-testid={`error-${name}`}>
      {message}
    </span>
  ) : null;

const invalid = (message: string | undefined, id: string) =>
  message ? { "aria-invalid": true as const, "aria-describedby": id } : {};

type FormMode = { kind: "create" } | { kind: "edit"; user: UserRow };

const UserFormDialog = ({
  mode,
  participants,
  regions,
  onClose,
  onSaved,
}: {
  mode: FormMode;
  participants: Participant[];
  regions: string[];
  onClose: () => void;
  onSaved: (message: string) => void;
}) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const uid = useId();
  const editing = mode.kind === "edit" ? mode.user : null;
  const [form, setForm] = useState({
    name: editing?.name ?? "",
    email: editing?.email ?? "",
    role: (editing?.role ?? "viewer") as Role,
    participantId: editing?.participantId ?? "",
    regions: editing?.regions ?? ([] as string[]),
    password: "",
  });
  const [generated, setGenerated] = useState<{ email: string; password: string } | null>(null);

  const done = () => queryClient.invalidateQueries(trpc.admin.users.list.pathFilter());
  const create = useMutation(
    trpc.admin.users.create.mutationOptions({
      onSuccess: async ({ user, generatedPassword }) => {
        await done();
        if (generatedPassword) setGenerated({ email: user.email, password: generatedPassword });
        else {
          onSaved(`Created ${user.email}.`);
          onClose();
        }
      },
    }),
  );
  const update = useMutation(
    trpc.admin.users.update.mutationOptions({
      onSuccess: async (user) => {
        await done();
        onSaved(`Saved ${user.email}.`);
        onClose();
      },
    }),
  );
  const mutation = editing ? update : create;
  const { byField, other } = formErrors(fieldErrors(mutation.error), FIELDS);
  // The participant picker only shows for traders; its message must not vanish with it.
  if (byField.participantId && form.role !== "trader") other.push(byField.participantId);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (mutation.isPending) return;
    const fields = {
      name: form.name,
      role: form.role,
      participantId: form.role === "trader" ? form.participantId || null : null,
      regions: form.regions,
    };
    if (editing) update.mutate({ id: editing.id, ...fields });
    else create.mutate({ ...fields, email: form.email, password: form.password || undefined });
  };

  const set = (key: "name" | "email" | "password" | "participantId") => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));
  const toggleRegion = (region: string, on: boolean) =>
    setForm((f) => ({ ...f, regions: on ? [...f.regions, region] : f.regions.filter((r) => r !== region) }));

  if (generated) {
    const finish = () => {
      onSaved(`Created ${generated.email}.`);
      onClose();
    };
    return (
      <Dialog title="User created" onClose={finish} testId="user-created-dialog">
        <div className="dialog-body">
          <p>
            <strong>{generated.email}</strong> can now sign in with this password.
          </p>
          <SecretBox label="Generated password" value={generated.password} testId="generated-password" />
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn btn-primary" onClick={finish} autoFocus>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  const id = (name: string) => `${uid}-${name}`;
  const err = (name: string) => `${uid}-err-${name}`;

  return (
    <Dialog title={editing ? `Edit ${editing.email}` : "New user"} onClose={onClose} busy={mutation.isPending} testId="user-form-dialog">
      <form onSubmit={onSubmit} noValidate aria-busy={mutation.isPending} aria-label={editing ? `Edit ${editing.email}` : "New user"}>
        <div className="dialog-body">
          <FormError error={mutation.error} byField={byField} other={other} />
          <div className="form-grid">
            <div className="field">
              <label htmlFor={id("name")}>Name</label>
              <input id={id("name")} className="input" value={form.name} onChange={set("name")} autoFocus autoComplete="off" {...invalid(byField.name, err("name"))} data-testid="user-name" />
              <FieldError id={err("name")} name="name" message={byField.name} />
            </div>
            <div className="field">
              <label htmlFor={id("email")}>Email</label>
              {editing ? (
                <input id={id("email")} className="input" value={form.email} readOnly aria-readonly="true" />
              ) : (
                <input
                  id={id("email")}
                  className="input"
                  type="email"
                  value={form.email}
                  onChange={set("email")}
                  autoComplete="off"
                  {...invalid(byField.email, err("email"))}
                  data-testid="user-email"
                />
              )}
              <FieldError id={err("email")} name="email" message={byField.email} />
            </div>
            <div className="field">
              <label htmlFor={id("role")}>Role</label>
              <select
                id={id("role")}
                className="select"
                value={form.role}
                onChange={(e) => setForm((f) => ({ ...f, role: e.target.value as Role, participantId: e.target.value === "trader" ? f.participantId : "" }))}
                {...invalid(byField.role, err("role"))}
                data-testid="user-role"
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {ROLE_LABELS[r]}
                  </option>
                ))}
              </select>
              <FieldError id={err("role")} name="role" message={byField.role} />
            </div>
            {form.role === "trader" ? (
              <div className="field">
                <label htmlFor={id("participant")}>Market participant</label>
                <select
                  id={id("participant")}
                  className="select"
                  value={form.participantId}
                  onChange={set("participantId")}
                  {...invalid(byField.participantId, err("participantId"))}
                  data-testid="user-participant"
                >
                  <option value="">Choose…</option>
                  {participants.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name} ({p.role} · {p.id})
                    </option>
                  ))}
                </select>
                <FieldError id={err("participantId")} name="participantId" message={byField.participantId} />
              </div>
            ) : null}
            <fieldset className="field span-2" {...(byField.regions ? { "aria-describedby": err("regions") } : {})}>
              <legend>Monitoring regions</legend>
              {regions.length ? (
                <div className="checks" data-testid="user-regions">
                  {regions.map((region) => (
                    <label key={region} className="check">
                      <input type="checkbox" checked={form.regions.includes(region)} onChange={(e) => toggleRegion(region, e.target.checked)} value={region} />
                      {region}
                    </label>
                  ))}
                </div>
              ) : (
                <span className="hint">No regions are configured.</span>
              )}
              <FieldError id={err("regions")} name="regions" message={byField.regions} />
            </fieldset>
            {!editing ? (
              <div className="field span-2">
                <label htmlFor={id("password")}>Initial password (optional)</label>
                <input
                  id={id("password")}
                  className="input"
                  type="password"
                  value={form.password}
                  onChange={set("password")}
                  autoComplete="new-password"
                  {...(byField.password ? { "aria-invalid": true, "aria-describedby": err("password") } : { "aria-describedby": id("password-hint") })}
                  data-testid="user-password"
                />
                <span className="hint" id={id("password-hint")}>
                  Leave empty to generate one; it is shown once after the user is created.
                </span>
                <FieldError id={err("password")} name="password" message={byField.password} />
              </div>
            ) : null}
          </div>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={mutation.isPending}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={mutation.isPending} data-testid="user-submit">
            {mutation.isPending ? <span className="spinner" aria-hidden="true" /> : null}
            {editing ? "Save changes" : "Create user"}
          </button>
        </div>
      </form>
    </Dialog>
  );
};

const DisableDialog = ({ user, onClose, onSaved }: { user: UserRow; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const disabling = !user.disabled;
  const mutation = useMutation(
    trpc.admin.users.setDisabled.mutationOptions({
      onSuccess: async (saved) => {
        await queryClient.invalidateQueries(trpc.admin.users.list.pathFilter());
        onSaved(`${saved.email} is now ${saved.disabled ? "disabled" : "enabled"}.`);
        onClose();
      },
    }),
  );
  return (
    <Dialog title={disabling ? "Disable user" : "Enable user"} onClose={onClose} busy={mutation.isPending} testId="disable-dialog">
      <form
        aria-label={disabling ? "Disable user" : "Enable user"}
        onSubmit={(e) => {
          e.preventDefault();
          mutation.mutate({ id: user.id, disabled: disabling });
        }}
      >
        <div className="dialog-body">
          {mutation.error ? (
            <div className="alert alert-error" role="alert" data-testid="form-error">
              <p>{errorMessage(mutation.error)}</p>
            </div>
          ) : null}
          <p>
            {disabling ? (
              <>
                Disable <strong>{user.email}</strong>? They are signed out everywhere at once and cannot sign in until an admin enables the account
                again.
              </>
            ) : (
              <>
                Enable <strong>{user.email}</strong>? They can sign in again with their current password.
              </>
            )}
          </p>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={mutation.isPending} autoFocus>
            Cancel
          </button>
          <button type="submit" className={`btn ${disabling ? "btn-danger" : "btn-primary"}`} disabled={mutation.isPending} data-testid="confirm-disable">
            {mutation.isPending ? <span className="spinner" aria-hidden="true" /> : null}
            {disabling ? "Disable user" : "Enable user"}
          </button>
        </div>
      </form>
    </Dialog>
  );
};

const ResetPasswordDialog = ({ user, onClose, onSaved }: { user: UserRow; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const uid = useId();
  const [password, setPassword] = useState("");
  const mutation = useMutation(
    trpc.admin.users.resetPassword.mutationOptions({
      onSuccess: ({ generatedPassword }) => {
        if (!generatedPassword) {
          onSaved(`New password set for ${user.email}.`);
          onClose();
        }
      },
    }),
  );
  const generated = mutation.data?.generatedPassword;
  const { byField, other } = formErrors(fieldErrors(mutation.error), ["password"]);

  if (generated) {
    const finish = () => {
      onSaved(`Password reset for ${user.email}.`);
      onClose();
    };
    return (
      <Dialog title="Password reset" onClose={finish} testId="reset-dialog">
        <div className="dialog-body">
          <p>
            <strong>{user.email}</strong> was signed out everywhere. Their new password:
          </p>
          <SecretBox label="New password" value={generated} testId="generated-password" />
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn btn-primary" onClick={finish} autoFocus>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Reset password" onClose={onClose} busy={mutation.isPending} testId="reset-dialog">
      <form
        aria-label="Reset password"
        onSubmit={(e) => {
          e.preventDefault();
          mutation.mutate({ id: user.id, password: password || undefined });
        }}
        noValidate
      >
        <div className="dialog-body">
          <FormError error={mutation.error} byField={byField} other={other} />
          <p>
            Reset the password for <strong>{user.email}</strong>? Their sessions end now.
          </p>
          <div className="field">
            <label htmlFor={`${uid}-pw`}>New password (optional)</label>
            <input
              id={`${uid}-pw`}
              className="input"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              {...invalid(byField.password, `${uid}-pw-err`)}
              data-testid="reset-password-input"
            />
            <span className="hint">Leave empty to generate one; it is shown once.</span>
            <FieldError id={`${uid}-pw-err`} name="password" message={byField.password} />
          </div>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={mutation.isPending}>
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" disabled={mutation.isPending} data-testid="confirm-reset">
            {mutation.isPending ? <span className="spinner" aria-hidden="true" /> : null}
            Reset password
          </button>
        </div>
      </form>
    </Dialog>
  );
};

type Open = { kind: "create" } | { kind: "edit"; user: UserRow } | { kind: "disable"; user: UserRow } | { kind: "reset"; user: UserRow } | null;

const UsersAdmin = ({ canWrite, meId }: { canWrite: boolean; meId: string }) => {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const [role, setRole] = useState<Role | "">("");
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const debouncedSearch = useDebounced(search.trim(), 250);

  const list = useInfiniteQuery(
    trpc.admin.users.list.infiniteQueryOptions(
      { search: debouncedSearch || undefined, role: role || undefined, limit: 50 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const participants = useQuery(trpc.admin.participants.queryOptions(undefined, { staleTime: 60_000 }));
  const regions = useQuery(trpc.admin.regions.queryOptions(undefined, { staleTime: 60_000 }));
  const participantName = (id: string | null) => (id ? (participants.data?.find((p) => p.id === id)?.name ?? id) : "—");

  const users = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total;
  const filtered = Boolean(debouncedSearch || role);
  const close = () => setOpen(null);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Users</h1>
          <p>Who can sign in, with which role, for which market participant and regions.</p>
        </div>
        {canWrite ? (
          <button type="button" className="btn btn-primary" onClick={() => setOpen({ kind: "create" })} data-testid="new-user-button">
            New user
          </button>
        ) : null}
      </div>

      <div role="status" aria-live="polite">
        {notice ? (
          <div className="alert alert-ok" data-testid="users-notice">
            <p style={{ flex: 1 }}>{notice}</p>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>
        ) : null}
      </div>

      <form className="filters" role="search" aria-label="Find users" onSubmit={(e) => e.preventDefault()}>
        <div className="field wide">
          <label htmlFor="users-search">Search</label>
          <input
            id="users-search"
            className="input"
            type="search"
            placeholder="Name or email"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="users-search"
          />
        </div>
        <div className="field">
          <label htmlFor="users-role">Role</label>
          <select id="users-role" className="select" value={role} onChange={(e) => setRole(e.target.value as Role | "")} data-testid="users-role-filter">
            <option value="">All roles</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
        </div>
      </form>

      {list.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load users: {errorMessage(list.error)}</p>
        </div>
      ) : null}

      <div className="table-wrap">
        {list.isPending ? (
          <div className="empty">Loading users…</div>
        ) : users.length === 0 ? (
          <div className="empty" data-testid="users-empty">
            <strong>{filtered ? "No users match" : "No users yet"}</strong>
            {filtered ? "Try another name, email or role." : null}
          </div>
        ) : (
          <table className="data" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Participant</th>
                <th scope="col">Regions</th>
                <th scope="col">Status</th>
                {canWrite ? (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-testid={`user-row-${u.email}`} data-disabled={u.disabled}>
                  <td>
                    {u.email}
                    {u.id === meId ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td>{u.name}</td>
                  <td>{ROLE_LABELS[u.role as Role] ?? u.role}</td>
                  <td>{participantName(u.participantId)}</td>
                  <td>{u.regions.length ? u.regions.join(", ") : <span className="muted">—</span>}</td>
                  <td>
                    {u.disabled ? (
                      <span className="badge badge-danger" data-testid="user-status">
                        Disabled
                      </span>
                    ) : (
                      <span className="badge badge-ok" data-testid="user-status">
                        Enabled
                      </span>
                    )}
                  </td>
                  {canWrite ? (
                    <td className="actions-cell">
                      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setOpen({ kind: "edit", user: u })} aria-label={`Edit ${u.email}`} data-testid="edit-user">
                        Edit
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        onClick={() => setOpen({ kind: "disable", user: u })}
                        disabled={u.id === meId && !u.disabled}
                        title={u.id === meId && !u.disabled ? "You cannot disable your own account" : undefined}
                        aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.email}`}
                        data-testid="toggle-user"
                      >
                        {u.disabled ? "Enable" : "Disable"}
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        onClick={() => setOpen({ kind: "reset", user: u })}
                        aria-label={`Reset password for ${u.email}`}
                        data-testid="reset-user-password"
                      >
                        Reset password
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div className="table-foot">
        <span data-testid="users-total">{total !== undefined ? `${users.length} of ${total} ${total === 1 ? "user" : "users"}` : ""}</span>
        {list.hasNextPage ? (
          <button type="button" className="btn" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage} data-testid="load-more">
            {list.isFetchingNextPage ? <span className="spinner" aria-hidden="true" /> : null}
            Load more
          </button>
        ) : null}
      </div>

      {open?.kind === "create" || open?.kind === "edit" ? (
        <UserFormDialog
          key={open.kind === "edit" ? open.user.id : "create"}
          mode={open}
          participants={participants.data ?? []}
          regions={regions.data ?? []}
          onClose={close}
          onSaved={setNotice}
        />
      ) : null}
      {open?.kind === "disable" ? <DisableDialog user={open.user} onClose={close} onSaved={setNotice} /> : null}
      {open?.kind === "reset" ? <ResetPasswordDialog user={open.user} onClose={close} onSaved={setNotice} /> : null}
    </>
  );
};

export const UsersView = () => {
  const { user, can } = useMe();
  if (!can("admin.users.read")) {
    return (
      <div className="empty" data-testid="no-access">
        <strong>You don&apos;t have access</strong>
        Managing users needs the admin role. Ask an admin if you need it.
      </div>
    );
  }
  return <UsersAdmin canWrite={can("admin.users.write")} meId={user.id} />;
};
