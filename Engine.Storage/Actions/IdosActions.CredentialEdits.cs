using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

// Comparisons inside queries use ToLower(): it translates to SQL LOWER() on SQLite and PostgreSQL alike.
#pragma warning disable CA1862

namespace IdOS.Akka.Engine.Storage.Actions;

public static partial class IdosActions
{
    private static readonly string[] SharedByUserColumns = ["id", "user_id", "public_notes", "encryptor_public_key", "issuer_auth_public_key", "inserter", "original_id"];

    /// <summary>Credential writes by owners, issuers and inserters besides add/share/remove, and the inserter's and grantee's reads.</summary>
    private static void AddCredentialEditActions(List<ActionDefinition> actions)
    {
        actions.Add(new("edit_credential",
            [P("id", "uuid"), P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text"), P("content", "text"),
             P("encryptor_public_key", "text"), P("issuer_auth_public_key", "text")], false, false, (s, a) =>
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
        }));
        actions.Add(new("edit_public_notes_as_issuer", [P("public_notes_id", "text"), P("public_notes", "text")], false, false, (s, a) =>
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
        }));
        actions.Add(new("upsert_credential_as_inserter",
            [P("id", "uuid"), P("user_id", "uuid"), P("issuer_auth_public_key", "text"), P("encryptor_public_key", "text"), P("content", "text"),
             P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text")], false, false, (s, a) =>
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
        }));
        actions.Add(new("credential_exist_as_inserter", [P("id", "uuid")], true, false, (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            return Table(["credential_exist_as_inserter"], [[s.Db.GetTable<CredentialRow>().Any(c => c.Id == id)]]);
        }));
        actions.Add(new("get_credentials_shared_by_user", [P("user_id", "uuid"), P("original_issuer_auth_public_key", "text", true)], true, false, (s, a) =>
        {
            var userId = a.Uuid(0);
            var issuer = a.Text(1);
            var granted = GrantedToCaller(s);
            var rows = from copy in s.Db.GetTable<CredentialRow>()
                       where copy.UserId == userId
                       from link in s.Db.GetTable<SharedCredentialRow>().InnerJoin(l => l.CopyId == copy.Id)
                       from original in s.Db.GetTable<CredentialRow>().InnerJoin(o => o.Id == link.OriginalId)
                       where granted.Any(g => g.DataId == copy.Id) && (issuer == null || original.IssuerAuthPublicKey == issuer)
                       orderby copy.Id
                       select new { copy.Id, copy.UserId, original.PublicNotes, copy.EncryptorPublicKey, copy.IssuerAuthPublicKey, copy.Inserter, link.OriginalId };
            return Table(SharedByUserColumns, rows.AsEnumerable()
                .Select(r => new object?[] { r.Id, r.UserId, r.PublicNotes, r.EncryptorPublicKey, r.IssuerAuthPublicKey, r.Inserter, r.OriginalId }));
        }));
    }
}
