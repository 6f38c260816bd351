using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>What grantees read: grants given to them and the shared credentials behind them.</summary>
internal static class SharingActions
{
    private static readonly string[] SharedCredentialColumns = ["id", "user_id", "public_notes", "content", "encryptor_public_key", "issuer_auth_public_key", "inserter"];

    /// <summary>The reads and edits around shared copies and grants, where the grantee (not the owner) is the caller.</summary>
    public static void Register(ActionTable actions)
    {
        actions.Add("get_access_grants_granted", (s, a) =>
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
            return ActionOutcome.Table(CredentialActions.GrantColumns, grants.AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        });
        actions.Add("get_access_grants_granted_count", (s, a) =>
        {
            var owner = a.NullableUuid(0);
            return ActionOutcome.Table(["count"], [[(long)GrantedToCaller(s).Count(g => owner == null || g.OwnerUserId == owner)]]);
        });
        actions.Add("get_access_grants_for_credential", (s, a) =>
        {
            var id = a.Uuid(0);
            return ActionOutcome.Table(CredentialActions.GrantColumns, GrantedToCaller(s).Where(g => g.DataId == id).OrderBy(g => g.Height).ThenBy(g => g.Id).AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        });
        actions.Add("get_credential_shared", (s, a) =>
        {
            var id = a.Uuid(0);

            // Nobody but a grantee learns whether the credential exists: the answer is the same empty table.
            if (!GrantedToCaller(s).Any(g => g.DataId == id))
            {
                return ActionOutcome.Table(SharedCredentialColumns, []);
            }

            var rows = from copy in s.Db.GetTable<CredentialRow>()
                       where copy.Id == id
                       from link in s.Db.GetTable<SharedCredentialRow>().LeftJoin(l => l.CopyId == copy.Id)
                       from original in s.Db.GetTable<CredentialRow>().LeftJoin(o => o.Id == link.OriginalId)
                       select new { copy.Id, copy.UserId, Notes = original.PublicNotes ?? copy.PublicNotes, copy.Content, copy.EncryptorPublicKey, copy.IssuerAuthPublicKey, copy.Inserter };
            return ActionOutcome.Table(SharedCredentialColumns, rows.AsEnumerable()
                .Select(r => new object?[] { r.Id, r.UserId, r.Notes, r.Content, r.EncryptorPublicKey, r.IssuerAuthPublicKey, r.Inserter }));
        });
        actions.Add("get_sibling_credential_id", (s, a) =>
        {
            var hash = a.RequiredText(0);
            var id = GrantedToCaller(s).Where(g => g.ContentHash == hash).OrderBy(g => g.Height).ThenBy(g => g.Id).Select(g => (Guid?)g.DataId).FirstOrDefault();
            return ActionOutcome.Table(["id"], id is null ? [] : [[id]]);
        });
        actions.Add("rescind_shared_credential", (s, a) =>
        {
            var id = a.Uuid(0);
            if (!s.Db.GetTable<SharedCredentialRow>().Any(l => l.CopyId == id) || !GrantedToCaller(s).Any(g => g.DataId == id))
            {
                throw new ActionFailedException(ActionError.NotFound, "no credential shared with the caller has this id");
            }

            s.Db.GetTable<AccessGrantRow>().Where(g => g.DataId == id).Delete();
            s.Db.GetTable<CredentialRow>().Where(c => c.Id == id).Delete();
            return ActionOutcome.None;
        });
    }

    /// <summary>Grants whose grantee is the caller; grantee identifiers compare case-insensitively (COLLATE NOCASE).</summary>
    internal static IQueryable<AccessGrantRow> GrantedToCaller(ActionScope s)
    {
        var caller = s.Context.Caller.ToLowerInvariant();
        return s.Db.GetTable<AccessGrantRow>().Where(g => g.GranteeWalletIdentifier.ToLower() == caller);
    }
}
