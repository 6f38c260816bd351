using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>User profiles, written by inserters and read by their users.</summary>
internal static class UserActions
{
    public static void Register(ActionTable actions)
    {
        actions.Add("add_user_as_inserter", (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            var user = ReadUser(a, inserter);
            s.InsertNew(user, $"user {user.Id}");
            return ActionOutcome.None;
        });
        actions.Add("update_user_pub_key_as_inserter", (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            var key = a.RequiredText(1);
            var store = PasswordStore(a, 2);
            s.Statements.Execute("UPDATE users SET recipient_encryption_public_key = @p0, encryption_password_store = @p1 WHERE id = @p2", key, store, id);
            return ActionOutcome.None;
        });
        actions.Add("get_user", (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return ActionOutcome.Table(["id", "recipient_encryption_public_key", "encryption_password_store"],
                s.Db.GetTable<UserRow>().Where(u => u.Id == userId).AsEnumerable()
                    .Select(u => new object?[] { u.Id, u.RecipientEncryptionPublicKey, u.EncryptionPasswordStore }));
        });
        actions.Add("get_user_as_inserter", (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            return ActionOutcome.Table(["id", "recipient_encryption_public_key", "encryption_password_store", "inserter"],
                s.Db.GetTable<UserRow>().Where(u => u.Id == id).AsEnumerable()
                    .Select(u => new object?[] { u.Id, u.RecipientEncryptionPublicKey, u.EncryptionPasswordStore, u.Inserter }));
        });
        actions.Add("has_profile", (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            var has = s.Db.GetTable<WalletRow>().Any(w => w.Address.ToLower() == address);
            return ActionOutcome.Table(["has_profile"], [[has]]);
        });
    }

    private static UserRow ReadUser(ActionArguments a, string inserter) => new()
    {
        Id = a.Uuid(0),
        RecipientEncryptionPublicKey = a.RequiredText(1),
        EncryptionPasswordStore = PasswordStore(a, 2),
        Inserter = inserter,
    };

    private static string PasswordStore(ActionArguments a, int index)
    {
        var store = a.RequiredText(index);
        return store is "user" or "mpc"
            ? store
            : throw new ActionFailedException(ActionError.BadArguments, $"encryption_password_store must be 'user' or 'mpc', got '{store}'");
    }
}
