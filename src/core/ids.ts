import { z } from 'zod';

/**
 * Identifiers are plain strings on the wire and in storage; the brand only stops a `UserId` being passed
 * where an `ItemId` is expected. The allowed alphabet keeps ids safe as file names, Redis keys and URL
 * path segments without escaping.
 */
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
const ID_RULE = '1-128 characters of A-Z a-z 0-9 . _ : @ -';

function idSchema<B extends string>(kind: string) {
  return z
    .string({ error: `${kind} must be a string (${ID_RULE})` })
    .regex(ID_PATTERN, { error: `${kind} must be ${ID_RULE}` })
    .brand<B>();
}

export const UserIdSchema = idSchema<'UserId'>('user id');
export const ItemIdSchema = idSchema<'ItemId'>('item id');
export const CreatorIdSchema = idSchema<'CreatorId'>('creator id');
export const EventIdSchema = idSchema<'EventId'>('event id');
export const RequestIdSchema = idSchema<'RequestId'>('request id');

export type UserId = z.infer<typeof UserIdSchema>;
export type ItemId = z.infer<typeof ItemIdSchema>;
export type CreatorId = z.infer<typeof CreatorIdSchema>;
export type EventId = z.infer<typeof EventIdSchema>;
export type RequestId = z.infer<typeof RequestIdSchema>;

/** True when `value` is a well-formed id of any kind. */
export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}

// Trusted constructors for ids the platform mints itself (simulator, loaders); input from outside goes
// through the schemas instead.
export const asUserId = (value: string): UserId => value as UserId;
export const asItemId = (value: string): ItemId => value as ItemId;
export const asCreatorId = (value: string): CreatorId => value as CreatorId;
export const asEventId = (value: string): EventId => value as EventId;
export const asRequestId = (value: string): RequestId => value as RequestId;
