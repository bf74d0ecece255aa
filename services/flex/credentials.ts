import { readCredentials, generateSecret, updateCredentials, type Credentials } from "../../lib/credentials";
import type { ParticipantConfig } from "./node";
import { generateNodeKeys, type NodeKeys } from "./signing";

/**
 * The flex part of .data/credentials.json: each node's Ed25519 key pair, each node's
 * participants with their tokens, and the console's token. Generated once and kept, so
 * a restarted node signs with the same key and its devices keep trusting it.
 */
export type FlexCredentials = {
  nodes?: Record<string, NodeKeys>;
  participants?: Record<string, ParticipantConfig[]>;
  consoleToken?: string;
};

const flexOf = (c: Credentials) => ((c.flex ??= {}) as FlexCredentials);

export const ensureFlexCredentials = ({ dataDir, nodeId, participants }: { dataDir: string; nodeId: string; participants: Omit<ParticipantConfig, "token">[] }) => {
  const next = updateCredentials(dataDir, (c) => {
    const f = flexOf(c);
    f.nodes ??= {};
    f.nodes[nodeId] ??= generateNodeKeys();
    f.participants ??= {};
    const known = f.participants[nodeId] ?? [];
    for (const p of participants) if (!known.some((k) => k.id === p.id)) known.push({ ...p, token: generateSecret() });
    f.participants[nodeId] = known;
    f.consoleToken ??= generateSecret();
    return c;
  });
  const f = flexOf(next);
  return { keys: f.nodes![nodeId], participants: f.participants![nodeId], consoleToken: f.consoleToken! };
};

/** A peer's public key as another node on this machine stored it. */
export const storedPublicKey = (dataDir: string, nodeId: string) => (readCredentials(dataDir).flex as FlexCredentials | undefined)?.nodes?.[nodeId]?.publicKey;
