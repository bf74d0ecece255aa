"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { ROLE_LABELS, ROLES, isRole, type Role } from "@/contracts/console/permissions";
import { useMe } from "../../_components/session";
import { DataTable, type Columns } from "../../_components/ui/data-table";
import { ConfirmDialog, FormDialog, SecretDialog } from "../../_components/ui/dialog";
import { Field, FieldSet, Select, toOptions } from "../../_components/ui/field";
import { FilterBar, optionsOf, SelectFilter, TextFilter } from "../../_components/ui/filters";
import { formErrors } from "../../_components/ui/messages";
import { Notice, PageHeader, useNotice } from "../../_components/ui/page-header";
import { countText, nextCursor, usePagedList } from "../../_components/ui/paged-list";
import { oneOf, useUrlState } from "../../_components/ui/url-state";

type UserRow = RouterOutputs["admin"]["users"]["list"]["items"][number];
type Participant = RouterOutputs["admin"]["participants"][number];

const LABELS = { name: "Name", email: "Email", role: "Role", participantId: "Market participant", regions: "Monitoring regions", password: "Password" };

const roleLabel = (role: string) => (isRole(role) ? ROLE_LABELS[role] : role);

/** Invalidate the list after any change, so every open view shows it. */
const useUsersChanged = () => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries(trpc.admin.users.list.pathFilter());
};

const UserFormDialog = ({ editing, participants, regions, onClose, onSaved }: { editing: UserRow | null; participants: Participant[]; regions: string[]; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const changed = useUsersChanged();
  const [form, setForm] = useState({
    name: editing?.name ?? "",
    email: editing?.email ?? "",
    role: (editing?.role ?? "viewer") as Role,
    participantId: editing?.participantId ?? "",
    regions: editing?.regions ?? ([] as string[]),
    password: "",
  });
  const [generated, setGenerated] = useState<{ email: string; password: string } | null>(null);
  const saved = async (message: string) => {
    await changed();
    onSaved(message);
    onClose();
  };
  const create = useMutation(
    trpc.admin.users.create.mutationOptions({
      onSuccess: async ({ user, generatedPassword }) => {
        if (!generatedPassword) return saved(`Created ${user.email}.`);
        await changed();
        setGenerated({ email: user.email, password: generatedPassword });
      },
    }),
  );
  const update = useMutation(trpc.admin.users.update.mutationOptions({ onSuccess: (user) => saved(`Saved ${user.email}.`) }));
  const mutation = editing ? update : create;
  const { byField, other } = formErrors(mutation.error, LABELS);
  // The participant picker only shows for traders; its message must not vanish with it.
  if (byField.participantId && form.role !== "trader") other.push(byField.participantId);

  if (generated) {
    const done = () => {
      onSaved(`Created ${generated.email}.`);
      onClose();
    };
    return (
      <SecretDialog
        title="User created"
        intro={
          <>
            <strong>{generated.email}</strong> can now sign in with this password.
          </>
        }
        label="Generated password"
        value={generated.password}
        onDone={done}
        testId="user-created-dialog"
      />
    );
  }

  const submit = () => {
    const fields = { name: form.name, role: form.role, participantId: form.role === "trader" ? form.participantId || null : null, regions: form.regions };
    if (editing) update.mutate({ id: editing.id, ...fields });
    else create.mutate({ ...fields, email: form.email, password: form.password || undefined });
  };
  const set = (key: "name" | "email" | "password") => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const toggleRegion = (region: string, on: boolean) => setForm((f) => ({ ...f, regions: on ? [...f.regions, region] : f.regions.filter((r) => r !== region) }));
  const title = editing ? `Edit ${editing.email}` : "New user";

  return (
    <FormDialog title={title} submitLabel={editing ? "Save changes" : "Create user"} onSubmit={submit} onClose={onClose} pending={mutation.isPending} errors={other} testId="user-form-dialog" submitTestId="user-submit">
      <div className="form-grid">
        <Field label="Name" error={byField.name} name="name">
          {(c) => <input {...c} className="input" value={form.name} onChange={set("name")} autoComplete="off" data-testid="user-name" />}
        </Field>
        <Field label="Email" error={byField.email} name="email" hint={editing ? "The email cannot change." : undefined}>
          {(c) =>
            editing ? (
              <input {...c} className="input" value={form.email} readOnly aria-readonly="true" />
            ) : (
              <input {...c} className="input" type="email" value={form.email} onChange={set("email")} autoComplete="off" data-testid="user-email" />
            )
          }
        </Field>
        <Field label="Role" error={byField.role} name="role">
          {(c) => (
            <Select
              {...c}
              value={form.role}
              onValue={(r) => setForm((f) => ({ ...f, role: r as Role, participantId: r === "trader" ? f.participantId : "" }))}
              options={toOptions(ROLES, roleLabel)}
              data-testid="user-role"
            />
          )}
        </Field>
        {form.role === "trader" ? (
          <Field label="Market participant" error={byField.participantId} name="participantId">
            {(c) => (
              <Select
                {...c}
                value={form.participantId}
                onValue={(participantId) => setForm((f) => ({ ...f, participantId }))}
                options={[{ value: "", label: "Choose…" }, ...participants.map((p) => ({ value: p.id, label: `${p.name} (${p.role} · ${p.id})` }))]}
                data-testid="user-participant"
              />
            )}
          </Field>
        ) : null}
        <FieldSet legend="Monitoring regions" error={byField.regions} name="regions" className="span-2">
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
        </FieldSet>
        {!editing ? (
          <Field label="Initial password (optional)" error={byField.password} name="password" className="span-2" hint="Leave empty to generate one; it is shown once after the user is created.">
            {(c) => <input {...c} className="input" type="password" value={form.password} onChange={set("password")} autoComplete="new-password" data-testid="user-password" />}
          </Field>
        ) : null}
      </div>
    </FormDialog>
  );
};

const DisableDialog = ({ user, onClose, onSaved }: { user: UserRow; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const changed = useUsersChanged();
  const disabling = !user.disabled;
  const mutation = useMutation(
    trpc.admin.users.setDisabled.mutationOptions({
      onSuccess: async (saved) => {
        await changed();
        onSaved(`${saved.email} is now ${saved.disabled ? "disabled" : "enabled"}.`);
        onClose();
      },
    }),
  );
  return (
    <ConfirmDialog
      title={disabling ? "Disable user" : "Enable user"}
      confirmLabel={disabling ? "Disable user" : "Enable user"}
      tone={disabling ? "danger" : "primary"}
      onConfirm={() => mutation.mutate({ id: user.id, disabled: disabling })}
      onClose={onClose}
      pending={mutation.isPending}
      error={mutation.error}
      testId="disable-dialog"
      confirmTestId="confirm-disable"
    >
      <p>
        {disabling ? (
          <>
            Disable <strong>{user.email}</strong>? They are signed out everywhere at once and cannot sign in until an admin enables the account again.
          </>
        ) : (
          <>
            Enable <strong>{user.email}</strong>? They can sign in again with their current password.
          </>
        )}
      </p>
    </ConfirmDialog>
  );
};

const ResetPasswordDialog = ({ user, onClose, onSaved }: { user: UserRow; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const [password, setPassword] = useState("");
  const mutation = useMutation(
    trpc.admin.users.resetPassword.mutationOptions({
      onSuccess: ({ generatedPassword }) => {
        if (generatedPassword) return;
        onSaved(`New password set for ${user.email}.`);
        onClose();
      },
    }),
  );
  const generated = mutation.data?.generatedPassword;
  const { byField, other } = formErrors(mutation.error, { password: "Password" });

  if (generated) {
    const done = () => {
      onSaved(`Password reset for ${user.email}.`);
      onClose();
    };
    const intro = (
      <>
        <strong>{user.email}</strong> was signed out everywhere. Their new password:
      </>
    );
    return <SecretDialog title="Password reset" intro={intro} label="New password" value={generated} onDone={done} testId="reset-dialog" />;
  }

  return (
    <FormDialog
      title="Reset password"
      submitLabel="Reset password"
      tone="danger"
      onSubmit={() => mutation.mutate({ id: user.id, password: password || undefined })}
      onClose={onClose}
      pending={mutation.isPending}
      errors={other}
      testId="reset-dialog"
      submitTestId="confirm-reset"
    >
      <p>
        Reset the password for <strong>{user.email}</strong>? Their sessions end now.
      </p>
      <Field label="New password (optional)" error={byField.password} name="password" hint="Leave empty to generate one; it is shown once.">
        {(c) => <input {...c} className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="reset-password-input" />}
      </Field>
    </FormDialog>
  );
};

/** Lifts the sign-in throttle of one account from every address (after too many wrong passwords). */
const UnlockDialog = ({ user, onClose, onSaved }: { user: UserRow; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const mutation = useMutation(
    trpc.admin.users.unlockSignIn.mutationOptions({
      onSuccess: ({ cleared }) => {
        onSaved(cleared ? `${user.email} can sign in again now.` : `${user.email} was not held back; nothing to unlock.`);
        onClose();
      },
    }),
  );
  return (
    <ConfirmDialog
      title="Unlock sign-in"
      confirmLabel="Unlock sign-in"
      tone="primary"
      onConfirm={() => mutation.mutate({ userId: user.id })}
      onClose={onClose}
      pending={mutation.isPending}
      error={mutation.error}
      testId="unlock-dialog"
      confirmTestId="confirm-unlock"
    >
      <p>
        Let <strong>{user.email}</strong> sign in again now? Waiting times after wrong passwords end for this account from every address; the password stays as it is.
      </p>
    </ConfirmDialog>
  );
};

type Open = { kind: "create" } | { kind: "edit" | "disable" | "reset" | "unlock"; user: UserRow } | null;

const column = createColumnHelper<UserRow>();

const FILTERS = ["q", "role"] as const;

/** The columns; admins who may write get the row actions. */
const userColumns = ({ meId, canWrite, participants, open }: { meId: string; canWrite: boolean; participants?: Participant[]; open: (o: Open) => void }): Columns<UserRow> => {
  const participantName = (id: string | null) => (id ? (participants?.find((p) => p.id === id)?.name ?? id) : "—");
  const base = [
    column.accessor("email", {
      header: "Email",
      cell: ({ row: { original: u } }) => (
        <>
          {u.email}
          {u.id === meId ? <span className="muted"> (you)</span> : null}
        </>
      ),
    }),
    column.accessor("name", { header: "Name" }),
    column.accessor((u) => roleLabel(u.role), { id: "role", header: "Role" }),
    column.accessor((u) => participantName(u.participantId), { id: "participant", header: "Participant" }),
    column.accessor((u) => u.regions.join(", "), { id: "regions", header: "Regions", cell: ({ getValue }) => getValue() || <span className="muted">—</span> }),
    column.accessor("disabled", {
      header: "Status",
      cell: ({ getValue }) => (
        <span className={`badge ${getValue() ? "badge-danger" : "badge-ok"}`} data-testid="user-status">
          {getValue() ? "Disabled" : "Enabled"}
        </span>
      ),
    }),
  ];
  if (!canWrite) return base;
  const actions = column.display({
    id: "actions",
    header: "Actions",
    meta: { srOnly: true, className: "actions-cell" },
    cell: ({ row: { original: u } }) => {
      const self = u.id === meId && !u.disabled;
      return (
        <>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => open({ kind: "edit", user: u })} aria-label={`Edit ${u.email}`} data-testid="edit-user">
            Edit
          </button>
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => open({ kind: "disable", user: u })}
            disabled={self}
            title={self ? "You cannot disable your own account" : undefined}
            aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.email}`}
            data-testid="toggle-user"
          >
            {u.disabled ? "Enable" : "Disable"}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => open({ kind: "reset", user: u })} aria-label={`Reset password for ${u.email}`} data-testid="reset-user-password">
            Reset password
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => open({ kind: "unlock", user: u })} aria-label={`Unlock sign-in for ${u.email}`} data-testid="unlock-user">
            Unlock sign-in
          </button>
        </>
      );
    },
  });
  return [...base, actions];
};

/** Who can sign in, with which role, participant and regions; admins change all of it. */
export const UsersView = () => {
  const trpc = useTRPC();
  const { user: me, can } = useMe();
  const canWrite = can("admin.users.write");
  const url = useUrlState(FILTERS);
  const role = oneOf(ROLES, url.values.role);
  const [open, setOpen] = useState<Open>(null);
  const notice = useNotice();

  const list = usePagedList(useInfiniteQuery(trpc.admin.users.list.infiniteQueryOptions({ search: url.values.q || undefined, role, limit: 50 }, { getNextPageParam: nextCursor })));
  const participants = useQuery(trpc.admin.participants.queryOptions(undefined, { staleTime: 60_000 }));
  const regions = useQuery(trpc.admin.regions.queryOptions(undefined, { staleTime: 60_000 }));

  const participantList = participants.data;
  const columns = useMemo(() => userColumns({ meId: me.id, canWrite, participants: participantList, open: setOpen }), [me.id, canWrite, participantList, setOpen]);

  const close = () => setOpen(null);

  return (
    <>
      <PageHeader
        title="Users"
        description="Who can sign in, with which role, for which market participant and regions."
        primary={canWrite ? { label: "New user", onClick: () => setOpen({ kind: "create" }), testId: "new-user-button" } : undefined}
      />
      <Notice notice={notice} testId="users-notice" />

      <FilterBar label="Find users" onClear={url.clear} canClear={url.any}>
        <TextFilter label="Search" value={url.values.q} onChange={(q) => url.set({ q })} placeholder="Name or email" size="wide" testId="users-search" />
        <SelectFilter label="Role" value={role ?? ""} onChange={(r) => url.set({ role: r })} options={optionsOf("All roles", ROLES, roleLabel)} testId="users-role-filter" />
      </FilterBar>

      <DataTable
        label="Users"
        {...list.table}
        columns={columns}
        rowId={(u) => u.id}
        rowAttrs={(u) => ({ "data-testid": `user-row-${u.email}`, "data-disabled": u.disabled })}
        noun="users"
        empty={url.any ? { title: "No users match", hint: "Try another name, email or role." } : { title: "No users yet" }}
        foot={list.loaded ? <span data-testid="users-total">{countText(list.rows.length, list.total, "user", "users")}</span> : null}
        testId="users-table"
        emptyTestId="users-empty"
      />

      {open?.kind === "create" || open?.kind === "edit" ? (
        <UserFormDialog
          key={open.kind === "edit" ? open.user.id : "create"}
          editing={open.kind === "edit" ? open.user : null}
          participants={participants.data ?? []}
          regions={regions.data ?? []}
          onClose={close}
          onSaved={notice.show}
        />
      ) : null}
      {open?.kind === "disable" ? <DisableDialog user={open.user} onClose={close} onSaved={notice.show} /> : null}
      {open?.kind === "reset" ? <ResetPasswordDialog user={open.user} onClose={close} onSaved={notice.show} /> : null}
      {open?.kind === "unlock" ? <UnlockDialog user={open.user} onClose={close} onSaved={notice.show} /> : null}
    </>
  );
};
