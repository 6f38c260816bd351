using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

// Comparisons inside queries use ToLower(): it translates to SQL LOWER() on SQLite and PostgreSQL alike.
#pragma warning disable CA1862

namespace IdOS.Akka.Engine.Storage.Actions;

public static partial class IdosActions
{
    private static readonly string[] SharedCredentialColumns = ["id", "user_id", "public_notes", "content", "encryptor_public_key", "issuer_auth_public_key", "inserter"];

    /// <summary>The reads and edits around shared copies and grants, where the grantee (not the owner) is the caller.</summary>
    private static void AddSharingActions(List<ActionDefinition> actions)
    {
        actions.Add(new("get_access_grants_granted", [P("user_id", "uuid", true), P("page", "int8"), P("size", "int8")], true, false, (s, a) =>
        {
            var owner = a.NullableUuid(0);
            var page = a.WholeNumber(1);
            var size = a.WholeNumber(2);
            if (page < 1 || size < 1)
            {
                throw new ActionFailedException(ActionError.BadArguments, "page and size must be at least 1");
            }

            var grants = GrantedToCaller(s).Where(g => owner == null || g.OwnerUserId == owner).OrderBy(g => g.Height).ThenBy(g => g.Id)
                .Skip((int)Math.Min(int.MaxValue, (page - 1) * size)).Take((int)Math.Min(int.MaxValue, size));
            return Table(GrantColumns, grants.AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        }));
        actions.Add(new("get_access_grants_granted_count", [P("user_id", "uuid", true)], true, false, (s, a) =>
        {
            var owner = a.NullableUuid(0);
            return Table(["count"], [[(long)GrantedToCaller(s).Count(g => owner == null || g.OwnerUserId == owner)]]);
        }));
        actions.Add(new("get_access_grants_for_credential", [P("credential_id", "uuid")], true, false, (s, a) =>
        {
            var id = a.Uuid(0);
            return Table(GrantColumns, GrantedToCaller(s).Where(g => g.DataId == id).OrderBy(g => g.Height).ThenBy(g => g.Id).AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        }));
        actions.Add(new("get_credential_shared", [P("id", "uuid")], true, false, (s, a) =>
        {
            var id = a.Uuid(0);

            // Nobody but a grantee learns whether the credential exists: the answer is the same empty table.
            if (!GrantedToCaller(s).Any(g => g.DataId == id))
            {
                return Table(SharedCredentialColumns, []);
            }

            var rows = from copy in s.Db.GetTable<CredentialRow>()
                       where copy.Id == id
                       from link in s.Db.GetTable<SharedCredentialRow>().LeftJoin(l => l.CopyId == copy.Id)
                       from original in s.Db.GetTable<CredentialRow>().LeftJoin(o => o.Id == link.OriginalId)
                       select new { copy.Id, copy.UserId, Notes = original.PublicNotes ?? copy.PublicNotes, copy.Content, copy.EncryptorPublicKey, copy.IssuerAuthPublicKey, copy.Inserter };
            return Table(SharedCredentialColumns, rows.AsEnumerable()
                .Select(r => new object?[] { r.Id, r.UserId, r.Notes, r.Content, r.EncryptorPublicKey, r.IssuerAuthPublicKey, r.Inserter }));
        }));
        actions.Add(new("get_sibling_credential_id", [P("content_hash", "text")], true, false, (s, a) =>
        {
            var hash = a.RequiredText(0);
            var id = GrantedToCaller(s).Where(g => g.ContentHash == hash).OrderBy(g => g.Height).ThenBy(g => g.Id).Select(g => (Guid?)g.DataId).FirstOrDefault();
            return Table(["id"], id is null ? [] : [[id]]);
        }));
        actions.Add(new("rescind_shared_credential", [P("credential_id", "uuid")], false, false, (s, a) =>
        {
            var id = a.Uuid(0);
            if (!s.Db.GetTable<SharedCredentialRow>().Any(l => l.CopyId == id) || !GrantedToCaller(s).Any(g => g.DataId == id))
            {
                throw new ActionFailedException(ActionError.NotFound, "no credential shared with the caller has this id");
            }

            s.Db.GetTable<AccessGrantRow>().Where(g => g.DataId == id).Delete();
            s.Db.GetTable<CredentialRow>().Where(c => c.Id == id).Delete();
            return ActionOutcome.None;
        }));
    }

    /// <summary>Grants whose grantee is the caller; grantee identifiers compare case-insensitively (COLLATE NOCASE).</summary>
    private static IQueryable<AccessGrantRow> GrantedToCaller(ActionScope s)
    {
        var caller = s.Context.Caller.ToLowerInvariant();
        return s.Db.GetTable<AccessGrantRow>().Where(g => g.GranteeWalletIdentifier.ToLower() == caller);
    }
}
