using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

// Comparisons inside queries use ToLower(): it translates to SQL LOWER() on SQLite and PostgreSQL alike.
#pragma warning disable CA1862

namespace IdOS.Akka.Engine.Storage.Actions;

public static partial class IdosActions
{
    /// <summary>The namespace schema.sql passes to uuid_generate_v5 for access-grant ids.</summary>
    private static readonly Guid AccessGrantNamespace = Guid.Parse("31276fd4-105f-4ff7-9f64-644942c14b79");

    private static readonly string[] GrantColumns =
        ["id", "ag_owner_user_id", "ag_grantee_wallet_identifier", "data_id", "locked_until", "content_hash", "inserter_type", "inserter_id"];

    private static void AddCredentialActions(List<ActionDefinition> actions)
    {
        actions.Add(new("add_credential",
            [P("id", "uuid"), P("issuer_auth_public_key", "text"), P("encryptor_public_key", "text"), P("content", "text"), P("public_notes", "text"),
             P("public_notes_signature", "text"), P("broader_signature", "text")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            InsertCredential(s, a.Uuid(0), userId, a.RequiredText(1), a.RequiredText(2), a.RequiredText(3), a.RequiredText(4), a.RequiredText(5), a.RequiredText(6), null);
            return ActionOutcome.None;
        }));
        actions.Add(new("get_credentials", [], true, false, (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            var rows = from credential in s.Db.GetTable<CredentialRow>()
                       where credential.UserId == userId
                       from shared in s.Db.GetTable<SharedCredentialRow>().LeftJoin(x => x.CopyId == credential.Id)
                       orderby credential.Id
                       select new { credential.Id, credential.UserId, credential.PublicNotes, credential.IssuerAuthPublicKey, credential.Inserter, OriginalId = (Guid?)shared.OriginalId };
            return Table(["id", "user_id", "public_notes", "issuer_auth_public_key", "inserter", "original_id"],
                rows.AsEnumerable().Select(r => new object?[] { r.Id, r.UserId, r.PublicNotes, r.IssuerAuthPublicKey, r.Inserter, r.OriginalId }));
        }));
        actions.Add(new("get_credential_owned", [P("id", "uuid")], true, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            return Table(["id", "user_id", "public_notes", "content", "encryptor_public_key", "issuer_auth_public_key", "inserter"],
                s.Db.GetTable<CredentialRow>().Where(c => c.Id == id && c.UserId == userId).AsEnumerable()
                    .Select(c => new object?[] { c.Id, c.UserId, c.PublicNotes, c.Content, c.EncryptorPublicKey, c.IssuerAuthPublicKey, c.Inserter }));
        }));
        actions.Add(new("remove_credential", [P("id", "uuid")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            if (!s.Db.GetTable<CredentialRow>().Any(c => c.Id == id && c.UserId == userId))
            {
                throw new ActionFailedException(ActionError.NotFound, "the credential does not belong to the caller");
            }

            if (HasLockedGrants(s, id))
            {
                throw new ActionFailedException(ActionError.Conflict, "the credential has locked access grants");
            }

            s.Db.GetTable<AccessGrantRow>().Where(g => g.DataId == id).Delete();
            s.Db.GetTable<CredentialRow>().Where(c => c.Id == id).Delete();
            return ActionOutcome.None;
        }));
        actions.Add(new("share_credential",
            [P("id", "uuid"), P("original_credential_id", "uuid"), P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text"),
             P("content", "text"), P("content_hash", "text"), P("encryptor_public_key", "text"), P("issuer_auth_public_key", "text"),
             P("grantee_wallet_identifier", "text"), P("locked_until", "int8")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            var original = a.Uuid(1);
            if (!s.Statements.Exists("SELECT 1 FROM credentials WHERE id = @p0 AND user_id = @p1", original, userId))
            {
                throw new ActionFailedException(ActionError.NotFound, "the original credential does not belong to the caller");
            }

            var publicNotes = a.RequiredText(2);
            if (publicNotes.Length != 0)
            {
                throw new ActionFailedException(ActionError.BadArguments, "shared credentials must have empty public_notes");
            }

            InsertCredential(s, id, userId, a.RequiredText(8), a.RequiredText(7), a.RequiredText(5), publicNotes, a.RequiredText(3), a.RequiredText(4), null);
            s.Statements.Insert(new SharedCredentialRow { OriginalId = original, CopyId = id });
            CreateAccessGrant(s, a.RequiredText(9), id, a.WholeNumber(10), a.Text(6), "user", s.Context.Caller);
            return ActionOutcome.None;
        }));
        actions.Add(new("revoke_access_grant", [P("id", "uuid")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            var grant = s.Db.GetTable<AccessGrantRow>().FirstOrDefault(g => g.Id == id && g.OwnerUserId == userId)
                ?? throw new ActionFailedException(ActionError.NotFound, "the access grant does not belong to the caller");
            if (grant.LockedUntil >= s.Context.BlockTimestamp)
            {
                throw new ActionFailedException(ActionError.Conflict, $"the grant is locked until {grant.LockedUntil}");
            }

            s.Db.GetTable<AccessGrantRow>().Where(g => g.Id == id).Delete();
            return ActionOutcome.None;
        }));
        actions.Add(new("get_access_grants_owned", [], true, false, (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return Table(GrantColumns, s.Db.GetTable<AccessGrantRow>().Where(g => g.OwnerUserId == userId).OrderBy(g => g.Height).ThenBy(g => g.Id).AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        }));
        actions.Add(new("has_locked_access_grants", [P("id", "uuid")], true, false, (s, a) => Table(["has_locked_access_grants"], [[HasLockedGrants(s, a.Uuid(0))]])));
    }

    /// <summary>A grant is locked while its locked_until (unix seconds) has not passed the executing block's time.</summary>
    private static bool HasLockedGrants(ActionScope s, Guid dataId)
    {
        var now = s.Context.BlockTimestamp;
        return s.Db.GetTable<AccessGrantRow>().Any(g => g.DataId == dataId && g.LockedUntil >= now);
    }

    private static void InsertCredential(ActionScope s, Guid id, Guid userId, string issuerAuthPublicKey, string encryptorPublicKey, string content,
        string publicNotes, string publicNotesSignature, string broaderSignature, string? inserter)
    {
        CredentialProofs.AssertSignatures(issuerAuthPublicKey, publicNotes, publicNotesSignature, content, broaderSignature);
        s.InsertNew(
            new CredentialRow
            {
                Id = id,
                UserId = userId,
                VerifiableCredentialId = CredentialProofs.VerifiableCredentialId(publicNotes),
                PublicNotes = publicNotes,
                Content = content,
                EncryptorPublicKey = encryptorPublicKey,
                IssuerAuthPublicKey = issuerAuthPublicKey,
                Inserter = inserter,
            },
            s.Statements.ExistsWithKey<CredentialRow>(id),
            $"credential {id}");
    }

    /// <summary>The id create_access_grant gives a grant, which clients need to revoke it.</summary>
    public static Guid AccessGrantId(string grantee, Guid dataId, long lockedUntil) =>
        CredentialProofs.UuidV5(AccessGrantNamespace, FormattableString.Invariant($"{grantee}-{dataId:D}-{lockedUntil}"));

    /// <summary>create_access_grant (PRIVATE): ids are derived from grantee, data and lock, so a repeated grant is a conflict.</summary>
    private static void CreateAccessGrant(ActionScope s, string grantee, Guid dataId, long lockedUntil, string? contentHash, string inserterType, string inserterId)
    {
        Guid owner;
        using (var credential = s.Statements.Read("SELECT user_id FROM credentials WHERE id = @p0", dataId))
        {
            owner = credential.Read() ? credential.GetGuid(0) : throw new ActionFailedException(ActionError.NotFound, $"credential {dataId} does not exist");
        }

        var id = AccessGrantId(grantee, dataId, lockedUntil);
        s.InsertNew(
            new AccessGrantRow
            {
                Id = id,
                OwnerUserId = owner,
                GranteeWalletIdentifier = grantee,
                DataId = dataId,
                LockedUntil = lockedUntil,
                ContentHash = contentHash,
                Height = s.Context.Height,
                InserterType = inserterType,
                InserterId = inserterId,
            },
            s.Statements.ExistsWithKey<AccessGrantRow>(id),
            $"an access grant for {grantee} on {dataId} locked until {lockedUntil}");
    }
}
