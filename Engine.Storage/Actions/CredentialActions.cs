using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>Credentials (added, edited, shared, removed) and the access grants that come with sharing them.</summary>
public static class CredentialActions
{
    /// <summary>The namespace schema.sql passes to uuid_generate_v5 for access-grant ids.</summary>
    private static readonly Guid AccessGrantNamespace = Guid.Parse("31276fd4-105f-4ff7-9f64-644942c14b79");

    internal static readonly string[] GrantColumns =
        ["id", "ag_owner_user_id", "ag_grantee_wallet_identifier", "data_id", "locked_until", "content_hash", "inserter_type", "inserter_id"];

    private static readonly string[] SharedByUserColumns = ["id", "user_id", "public_notes", "encryptor_public_key", "issuer_auth_public_key", "inserter", "original_id"];

    public static void Register(ActionTable actions)
    {
        actions.Add("add_credential", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            InsertCredential(s, a.Uuid(0), userId, a.RequiredText(1), a.RequiredText(2), a.RequiredText(3), a.RequiredText(4), a.RequiredText(5), a.RequiredText(6), null);
            return ActionOutcome.None;
        });
        actions.Add("get_credentials", (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            var rows = from credential in s.Db.GetTable<CredentialRow>()
                       where credential.UserId == userId
                       from shared in s.Db.GetTable<SharedCredentialRow>().LeftJoin(x => x.CopyId == credential.Id)
                       orderby credential.Id
                       select new { credential.Id, credential.UserId, credential.PublicNotes, credential.IssuerAuthPublicKey, credential.Inserter, OriginalId = (Guid?)shared.OriginalId };
            return ActionOutcome.Table(["id", "user_id", "public_notes", "issuer_auth_public_key", "inserter", "original_id"],
                rows.AsEnumerable().Select(r => new object?[] { r.Id, r.UserId, r.PublicNotes, r.IssuerAuthPublicKey, r.Inserter, r.OriginalId }));
        });
        actions.Add("get_credential_owned", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            return ActionOutcome.Table(["id", "user_id", "public_notes", "content", "encryptor_public_key", "issuer_auth_public_key", "inserter"],
                s.Db.GetTable<CredentialRow>().Where(c => c.Id == id && c.UserId == userId).AsEnumerable()
                    .Select(c => new object?[] { c.Id, c.UserId, c.PublicNotes, c.Content, c.EncryptorPublicKey, c.IssuerAuthPublicKey, c.Inserter }));
        });
        actions.Add("remove_credential", (s, a) =>
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
        });
        actions.Add("share_credential", (s, a) =>
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
        });
        actions.Add("revoke_access_grant", (s, a) =>
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
        });
        actions.Add("get_access_grants_owned", (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return ActionOutcome.Table(GrantColumns, s.Db.GetTable<AccessGrantRow>().Where(g => g.OwnerUserId == userId).OrderBy(g => g.Height).ThenBy(g => g.Id).AsEnumerable()
                .Select(g => new object?[] { g.Id, g.OwnerUserId, g.GranteeWalletIdentifier, g.DataId, g.LockedUntil, g.ContentHash, g.InserterType, g.InserterId }));
        });
        actions.Add("has_locked_access_grants", (s, a) => ActionOutcome.Table(["has_locked_access_grants"], [[HasLockedGrants(s, a.Uuid(0))]]));
    }

    /// <summary>Credential writes by owners, issuers and inserters besides add/share/remove, and the inserter's and grantee's reads.</summary>
    public static void RegisterEdits(ActionTable actions)
    {
        actions.Add("edit_credential", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            if (s.Db.GetTable<AccessGrantRow>().Any(g => g.DataId == id))
            {
                throw new ActionFailedException(ActionError.Conflict, "a credential with access grants cannot be edited");
            }

            if (s.Db.GetTable<SharedCredentialRow>().Any(l => l.CopyId == id))
            {
                throw new ActionFailedException(ActionError.Conflict, "a shared copy cannot be edited");
            }

            if (!s.Db.GetTable<CredentialRow>().Any(c => c.Id == id && c.UserId == userId))
            {
                throw new ActionFailedException(ActionError.NotFound, "the credential does not belong to the caller");
            }

            var notes = a.RequiredText(1);
            var content = a.RequiredText(4);
            var issuer = a.RequiredText(6);
            CredentialProofs.AssertSignatures(issuer, notes, a.RequiredText(2), content, a.RequiredText(3));
            s.Db.GetTable<CredentialRow>().Where(c => c.Id == id)
                .Set(c => c.PublicNotes, notes)
                .Set(c => c.VerifiableCredentialId, CredentialProofs.VerifiableCredentialId(notes))
                .Set(c => c.Content, content)
                .Set(c => c.EncryptorPublicKey, a.RequiredText(5))
                .Set(c => c.IssuerAuthPublicKey, issuer)
                .Update();
            return ActionOutcome.None;
        });
        actions.Add("edit_public_notes_as_issuer", (s, a) =>
        {
            var issuer = s.Context.Caller.ToLowerInvariant();
            var vcId = a.RequiredText(0);
            var notes = a.RequiredText(1);
            var updated = s.Db.GetTable<CredentialRow>().Where(c => c.IssuerAuthPublicKey.ToLower() == issuer && c.VerifiableCredentialId == vcId)
                .Set(c => c.PublicNotes, notes)
                .Update();
            return updated > 0
                ? ActionOutcome.None
                : throw new ActionFailedException(ActionError.NotFound, $"no credential issued by the caller has verifiable credential id '{vcId}'");
        });
        actions.Add("upsert_credential_as_inserter", (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            var id = a.Uuid(0);
            var userId = a.Uuid(1);
            if (!s.Db.GetTable<UserRow>().Any(u => u.Id == userId))
            {
                throw new ActionFailedException(ActionError.NotFound, $"user {userId} does not exist");
            }

            var notes = a.RequiredText(5);
            var content = a.RequiredText(4);
            var issuer = a.RequiredText(2);
            CredentialProofs.AssertSignatures(issuer, notes, a.RequiredText(6), content, a.RequiredText(7));
            if (s.Db.GetTable<CredentialRow>().Any(c => c.Id == id && c.UserId != userId))
            {
                throw new ActionFailedException(ActionError.Conflict, $"credential {id} belongs to another user");
            }

            // Not INSERT OR REPLACE: on SQLite that deletes the old row first, and the delete would cascade to its copies' links.
            var row = new CredentialRow
            {
                Id = id,
                UserId = userId,
                VerifiableCredentialId = CredentialProofs.VerifiableCredentialId(notes),
                PublicNotes = notes,
                Content = content,
                EncryptorPublicKey = a.RequiredText(3),
                IssuerAuthPublicKey = issuer,
                Inserter = inserter,
            };
            if (s.Db.Update(row) == 0)
            {
                s.Db.Insert(row);
            }

            return ActionOutcome.None;
        });
        actions.Add("credential_exist_as_inserter", (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            return ActionOutcome.Table(["credential_exist_as_inserter"], [[s.Db.GetTable<CredentialRow>().Any(c => c.Id == id)]]);
        });
        actions.Add("get_credentials_shared_by_user", (s, a) =>
        {
            var userId = a.Uuid(0);
            var issuer = a.Text(1);
            var granted = SharingActions.GrantedToCaller(s);
            var rows = from copy in s.Db.GetTable<CredentialRow>()
                       where copy.UserId == userId
                       from link in s.Db.GetTable<SharedCredentialRow>().InnerJoin(l => l.CopyId == copy.Id)
                       from original in s.Db.GetTable<CredentialRow>().InnerJoin(o => o.Id == link.OriginalId)
                       where granted.Any(g => g.DataId == copy.Id) && (issuer == null || original.IssuerAuthPublicKey == issuer)
                       orderby copy.Id
                       select new { copy.Id, copy.UserId, original.PublicNotes, copy.EncryptorPublicKey, copy.IssuerAuthPublicKey, copy.Inserter, link.OriginalId };
            return ActionOutcome.Table(SharedByUserColumns, rows.AsEnumerable()
                .Select(r => new object?[] { r.Id, r.UserId, r.PublicNotes, r.EncryptorPublicKey, r.IssuerAuthPublicKey, r.Inserter, r.OriginalId }));
        });
    }

    /// <summary>A grant is locked while its locked_until (unix seconds) has not passed the executing block's time.</summary>
    private static bool HasLockedGrants(ActionScope s, Guid dataId)
    {
        var now = s.Context.BlockTimestamp;
        return s.Db.GetTable<AccessGrantRow>().Any(g => g.DataId == dataId && g.LockedUntil >= now);
    }

    internal static void InsertCredential(ActionScope s, Guid id, Guid userId, string issuerAuthPublicKey, string encryptorPublicKey, string content,
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
            $"credential {id}");
    }

    /// <summary>The id create_access_grant gives a grant, which clients need to revoke it.</summary>
    public static Guid AccessGrantId(string grantee, Guid dataId, long lockedUntil) =>
        CredentialProofs.UuidV5(AccessGrantNamespace, FormattableString.Invariant($"{grantee}-{dataId:D}-{lockedUntil}"));

    /// <summary>create_access_grant (PRIVATE): ids are derived from grantee, data and lock, so a repeated grant is a conflict.</summary>
    internal static void CreateAccessGrant(ActionScope s, string grantee, Guid dataId, long lockedUntil, string? contentHash, string inserterType, string inserterId)
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
            $"an access grant for {grantee} on {dataId} locked until {lockedUntil}");
    }
}
