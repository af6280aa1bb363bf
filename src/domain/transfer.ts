// The in-process contract of one transfer, declared once: the replication
// driver sends these, the local receiver takes them, and the peer layer maps
// them onto their wire form (proto/messages.ts) and back.

/** "What do you hold of this share from me?" */
export interface HoldingsQuery {
  readonly share: string;
  readonly pool: string;
  /** The UUID of the share's subvolume on the sender: the chain's identity. */
  readonly shareUuid: string;
  /** The identity of the subvolume the share was made from (a restored or promoted share), else null. */
  readonly shareOrigin: string | null;
}

export interface TransferRequest {
  readonly attemptId: string;
  readonly task: string;
  readonly share: string;
  /** The UUID of the subvolume the snapshot was taken of (its parent UUID): the chain's identity. */
  readonly shareUuid: string;
  /** The identity of the subvolume the share was made from, when it is a writable snapshot of a replica; else null. */
  readonly shareOrigin: string | null;
  /** Set when the transfer brings back a replica the receiving side asked for (a restore). */
  readonly restoreId?: string | undefined;
  readonly pool: string;
  readonly snapshot: string;
  readonly snapshotUuid: string;
  /** The newest common snapshot: its name and identity (== the replica's received UUID); null for a full send. */
  readonly parent: { readonly name: string; readonly uuid: string } | null;
  /** The sender's keep-remote: a request, honoured above the receiver's floor. */
  readonly keepRemote: number;
  readonly sizeEstimate: number | null;
}

/** What the receiver answers once a replica is committed. */
export interface TransferReceipt {
  readonly attemptId: string;
  readonly snapshot: string;
  readonly receivedUuid: string;
  readonly bytes: number;
  readonly replicaPath: string;
  /** What the receiver's retention kept and deleted after the commit, and why; null when it deleted nothing. */
  readonly retention: string | null;
}

/** "Send me back a replica of what I sent you": what the asker says, and what the holder answers. */
export interface RestoreQuery {
  readonly restoreId: string;
  readonly share: string;
  /** Null: whichever one pool of the holder's holds the share. */
  readonly pool: string | null;
  readonly snapshot: string | null;
  /** Identities of the snapshots the asker holds. */
  readonly have: readonly string[];
}

export interface RestorePlan {
  readonly restoreId: string;
  /** The holder's pool that the replica comes from. */
  readonly pool?: string | undefined;
  readonly snapshot: string;
  readonly snapshotUuid: string;
  readonly parent: { readonly name: string; readonly uuid: string } | null;
  /** False when the asker holds the snapshot itself: nothing is sent. */
  readonly sending: boolean;
}
