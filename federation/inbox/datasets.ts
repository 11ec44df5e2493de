/**
 * Preference datasets, received: a followed policy's dataset changed (we
 * mirror it again, page by verified page), or its community withdrew one
 * record.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Delete, Update } from "@fedify/vocab";
import type { InstanceData } from "../context.ts";
import { dropMirroredRecord, syncDataset } from "../preference-datasets.ts";

type Ctx = InboxContext<InstanceData>;

export async function onDatasetChanged(ctx: Ctx, update: Update): Promise<void> {
  if (update.actorId == null || update.objectId == null) return;
  await syncDataset(ctx, update.objectId.href, update.actorId.href);
}

export async function onRecordWithdrawn(ctx: Ctx, del: Delete): Promise<boolean> {
  if (del.actorId == null || del.objectId == null) return false;
  return await dropMirroredRecord(ctx, del.objectId.href, del.actorId.href);
}
