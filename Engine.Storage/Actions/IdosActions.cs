using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Transactions;
using LinqToDB;
using LinqToDB.Data;

// Comparisons inside queries use ToLower(): it translates to SQL LOWER() on SQLite and PostgreSQL alike, where
// string.Equals with a StringComparison would not translate (CA1862 is about in-memory strings).
#pragma warning disable CA1862

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>An action of the idOS schema: its parameters, whether it only reads, whether only the owner may call it.</summary>
public sealed record ActionDefinition(string Name, IReadOnlyList<ActionParameter> Parameters, bool IsView, bool OwnerOnly,
    Func<ActionScope, ActionArguments, ActionOutcome> Run);

/// <summary>
/// The actions of idos-network/idos-schema's schema.sql, by name. Each runs inside a
/// savepoint: a refused action leaves no partial change, and the block it is in goes on.
/// </summary>
public static partial class IdosActions
{
    public const string Namespace = "main";

    private static readonly Dictionary<string, ActionDefinition> Registry = Build();

    /// <summary>The schema's public gas and fee actions: all of them move tokens through the erc20 bridge extension.</summary>
    private static readonly HashSet<string> TokenBridgeActions = new(StringComparer.Ordinal)
    {
        "request_balance_withdrawal", "get_allowance", "check_balance", "get_wallet_with_balance", "request_withdrawal", "get_issuer_fee",
        "action_costing_gas", "action_costing_idos_token", "action_costing_fee",
    };

    public static IReadOnlyDictionary<string, ActionDefinition> All => Registry;

    /// <summary>
    /// Runs one call. <paramref name="fromView"/> is set for `user.call`, which may run VIEW actions only. Throws
    /// <see cref="ActionFailedException"/> for any refusal, after undoing whatever the action wrote.
    /// </summary>
    public static ActionOutcome Execute(DataConnection db, ActionContext context, string ns, string action, IReadOnlyList<KwilValue> arguments, bool fromView)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(action);
        if (!string.Equals(ns, Namespace, StringComparison.Ordinal))
        {
            throw new ActionFailedException(ActionError.UnknownAction, $"namespace '{ns}' does not exist; idOS actions are in '{Namespace}'");
        }

        if (TokenBridgeActions.Contains(action.ToLowerInvariant()))
        {
            throw new ActionFailedException(ActionError.NotSupported,
                $"{action} needs idOS's erc20 token bridge (gas, balances, fees), which this network does not run");
        }

        if (!Registry.TryGetValue(action.ToLowerInvariant(), out var definition))
        {
            throw new ActionFailedException(ActionError.UnknownAction, $"action '{action}' does not exist");
        }

        if (fromView && !definition.IsView)
        {
            throw new ActionFailedException(ActionError.Unauthorized, $"{definition.Name} changes state; it can only be sent in a transaction");
        }

        var scope = new ActionScope(db, context);
        if (definition.OwnerOnly)
        {
            scope.RequireOwner(definition.Name);
        }

        var args = new ActionArguments(definition.Name, definition.Parameters, arguments);
        var ownTransaction = db.Transaction is null;
        using var transaction = ownTransaction ? db.BeginTransaction() : null;
        if (!ownTransaction)
        {
            db.Execute("SAVEPOINT idos_action");
        }

        try
        {
            var outcome = definition.Run(scope, args);
            if (ownTransaction)
            {
                transaction!.Commit();
            }
            else
            {
                db.Execute("RELEASE SAVEPOINT idos_action");
            }

            return outcome;
        }
        catch
        {
            if (!ownTransaction)
            {
                db.Execute("ROLLBACK TO SAVEPOINT idos_action");
                db.Execute("RELEASE SAVEPOINT idos_action");
            }

            throw;
        }
    }

    private static Dictionary<string, ActionDefinition> Build()
    {
        var actions = new List<ActionDefinition>();
        AddAdminActions(actions);
        AddUserActions(actions);
        AddWalletActions(actions);
        AddAttributeActions(actions);
        AddCredentialActions(actions);
        AddSharingActions(actions);
        AddGrantActions(actions);
        AddCredentialEditActions(actions);
        return actions.ToDictionary(a => a.Name, StringComparer.Ordinal);
    }

    private static ActionParameter P(string name, string type, bool nullable = false) => new(name, type, nullable);

    private static ActionOutcome Table(string[] columns, IEnumerable<object?[]> rows) => new(columns, [.. rows]);

    private static void AddAdminActions(List<ActionDefinition> actions)
    {
        actions.Add(new("add_inserter_as_owner", [P("id", "uuid"), P("name", "text")], false, true, (s, a) =>
        {
            var id = a.Uuid(0);
            var name = a.RequiredText(1);
            s.InsertNew(new InserterRow { Id = id, Name = name },
                s.Db.GetTable<InserterRow>().Any(i => i.Id == id || i.Name == name), $"an inserter with id {id} or name '{name}'");
            return ActionOutcome.None;
        }));
        actions.Add(new("delete_inserter_as_owner", [P("id", "uuid")], false, true, (s, a) =>
        {
            var id = a.Uuid(0);
            s.Db.GetTable<InserterRow>().Where(i => i.Id == id).Delete();
            return ActionOutcome.None;
        }));
        actions.Add(new("add_delegate_as_owner", [P("address", "text"), P("inserter_id", "uuid")], false, true, (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            var inserter = a.Uuid(1);
            if (!s.Db.GetTable<InserterRow>().Any(i => i.Id == inserter))
            {
                throw new ActionFailedException(ActionError.NotFound, $"inserter {inserter} does not exist");
            }

            s.InsertNew(new DelegateRow { Address = address, InserterId = inserter },
                s.Db.GetTable<DelegateRow>().Any(d => d.Address == address), $"delegate {address}");
            return ActionOutcome.None;
        }));
        actions.Add(new("delete_delegate_as_owner", [P("address", "text")], false, true, (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            s.Db.GetTable<DelegateRow>().Where(d => d.Address == address).Delete();
            return ActionOutcome.None;
        }));
    }

    private static void AddUserActions(List<ActionDefinition> actions)
    {
        ActionParameter[] userParameters = [P("id", "uuid"), P("recipient_encryption_public_key", "text"), P("encryption_password_store", "text")];
        actions.Add(new("add_user_as_inserter", userParameters, false, false, (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            var user = ReadUser(a, inserter);
            s.InsertNew(user, s.Db.GetTable<UserRow>().Any(u => u.Id == user.Id), $"user {user.Id}");
            return ActionOutcome.None;
        }));
        actions.Add(new("update_user_pub_key_as_inserter", userParameters, false, false, (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            var key = a.RequiredText(1);
            var store = PasswordStore(a, 2);
            s.Db.GetTable<UserRow>().Where(u => u.Id == id)
                .Set(u => u.RecipientEncryptionPublicKey, key)
                .Set(u => u.EncryptionPasswordStore, store)
                .Update();
            return ActionOutcome.None;
        }));
        actions.Add(new("get_user", [], true, false, (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return Table(["id", "recipient_encryption_public_key", "encryption_password_store"],
                s.Db.GetTable<UserRow>().Where(u => u.Id == userId).AsEnumerable()
                    .Select(u => new object?[] { u.Id, u.RecipientEncryptionPublicKey, u.EncryptionPasswordStore }));
        }));
        actions.Add(new("get_user_as_inserter", [P("id", "uuid")], true, false, (s, a) =>
        {
            s.RequireDelegateInserter();
            var id = a.Uuid(0);
            return Table(["id", "recipient_encryption_public_key", "encryption_password_store", "inserter"],
                s.Db.GetTable<UserRow>().Where(u => u.Id == id).AsEnumerable()
                    .Select(u => new object?[] { u.Id, u.RecipientEncryptionPublicKey, u.EncryptionPasswordStore, u.Inserter }));
        }));
        actions.Add(new("has_profile", [P("address", "text")], true, false, (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            var has = s.Db.GetTable<WalletRow>().Any(w => w.Address.ToLower() == address);
            return Table(["has_profile"], [[has]]);
        }));
    }

    private static void AddWalletActions(List<ActionDefinition> actions)
    {
        ActionParameter[] wallet = [P("address", "text"), P("public_key", "text", true), P("wallet_type", "text"), P("message", "text", true), P("signature", "text", true)];
        actions.Add(new("add_wallet", [P("id", "uuid"), .. wallet], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var row = CheckedWallet(s, a.Uuid(0), userId, a, 1);
            s.InsertNew(row, s.Statements.ExistsWithKey<WalletRow>(row.Id), $"wallet {row.Id}");
            return ActionOutcome.None;
        }));
        actions.Add(new("upsert_wallet_as_inserter", [P("id", "uuid"), P("user_id", "uuid"), .. wallet], false, false, (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            var userId = a.Uuid(1);
            if (!s.Statements.ExistsWithKey<UserRow>(userId))
            {
                throw new ActionFailedException(ActionError.NotFound, $"user {userId} does not exist");
            }

            var row = CheckedWallet(s, a.Uuid(0), userId, a, 2);
            row.Inserter = inserter;
            s.Db.InsertOrReplace(row);
            return ActionOutcome.None;
        }));
        actions.Add(new("get_wallets", [], true, false, (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return Table(["id", "user_id", "address", "public_key", "wallet_type", "message", "signature", "inserter"],
                s.Db.GetTable<WalletRow>().Where(w => w.UserId == userId).OrderBy(w => w.Id).AsEnumerable()
                    .Select(w => new object?[] { w.Id, w.UserId, w.Address, w.PublicKey, w.WalletType, w.Message, w.Signature, w.Inserter }));
        }));
        actions.Add(new("remove_wallet", [P("id", "uuid")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            var caller = s.Context.Caller;
            var lower = caller.ToLowerInvariant();
            var signingWith = s.Db.GetTable<WalletRow>().Any(w => w.Id == id
                && ((w.WalletType == "EVM" && w.Address.ToLower() == lower) || w.Address == caller || w.PublicKey == caller));
            if (signingWith)
            {
                throw new ActionFailedException(ActionError.Conflict, "You can not delete a wallet you are connected with. To delete this wallet you have to connect other wallet.");
            }

            s.Db.GetTable<WalletRow>().Where(w => w.Id == id && w.UserId == userId).Delete();
            return ActionOutcome.None;
        }));
    }

    /// <summary>The checks add_wallet and upsert_wallet_as_inserter share, in schema.sql's order; '' as public key is NULL.</summary>
    private static WalletRow CheckedWallet(ActionScope s, Guid id, Guid userId, ActionArguments a, int first)
    {
        var address = a.RequiredText(first);
        var publicKey = a.Text(first + 1) is { Length: > 0 } key ? key : null;
        var walletType = a.RequiredText(first + 2);
        var message = a.Text(first + 3);
        var signature = a.Text(first + 4);
        WalletProofs.Check(address, publicKey, walletType, message, signature, Auth.Secp256k1.Recovery);
        if (walletType is "NEAR" or "XRPL" or "Stellar" or "FaceSign")
        {
            if (publicKey is null)
            {
                throw new ActionFailedException(ActionError.BadArguments, $"a {walletType} wallet needs its public key");
            }

            if (s.Statements.Exists("SELECT 1 FROM wallets WHERE id <> @p0 AND public_key = @p1 AND wallet_type IN ('NEAR', 'XRPL', 'Stellar', 'FaceSign')", id, publicKey))
            {
                throw new ActionFailedException(ActionError.Conflict, "this wallet public key already exists");
            }
        }

        // lower() as the caller lookup writes it, so that SQLite searches the wallets_lower_address index.
        if ((walletType == "EVM" && s.Statements.Exists("SELECT 1 FROM wallets WHERE id <> @p0 AND wallet_type = 'EVM' AND lower(address) = @p1", id, address.ToLowerInvariant()))
            || (walletType is "XRPL" or "Stellar" && s.Statements.Exists("SELECT 1 FROM wallets WHERE id <> @p0 AND wallet_type = @p1 AND address = @p2", id, walletType, address)))
        {
            throw new ActionFailedException(ActionError.Conflict, "this wallet address already exists");
        }

        return new WalletRow { Id = id, UserId = userId, Address = address, PublicKey = publicKey, WalletType = walletType, Message = message, Signature = signature };
    }

    private static void AddAttributeActions(List<ActionDefinition> actions)
    {
        actions.Add(new("add_attribute", [P("id", "uuid"), P("attribute_key", "text"), P("value", "text")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            InsertAttribute(s, a.Uuid(0), userId, a.RequiredText(1), a.RequiredText(2), null);
            return ActionOutcome.None;
        }));
        actions.Add(new("add_attribute_as_inserter", [P("id", "uuid"), P("user_id", "uuid"), P("attribute_key", "text"), P("value", "text")], false, false, (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            InsertAttribute(s, a.Uuid(0), a.Uuid(1), a.RequiredText(2), a.RequiredText(3), inserter);
            return ActionOutcome.None;
        }));
        actions.Add(new("get_attributes", [], true, false, (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            var rows = from attribute in s.Db.GetTable<UserAttributeRow>()
                       where attribute.UserId == userId
                       from shared in s.Db.GetTable<SharedUserAttributeRow>().LeftJoin(x => x.CopyId == attribute.Id)
                       orderby attribute.Id
                       select new { attribute.Id, attribute.UserId, attribute.AttributeKey, attribute.Value, OriginalId = (Guid?)shared.OriginalId };
            return Table(["id", "user_id", "attribute_key", "value", "original_id"],
                rows.AsEnumerable().Select(r => new object?[] { r.Id, r.UserId, r.AttributeKey, r.Value, r.OriginalId }));
        }));
        actions.Add(new("edit_attribute", [P("id", "uuid"), P("attribute_key", "text"), P("value", "text")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            if (s.Db.GetTable<SharedUserAttributeRow>().Any(x => x.CopyId == id))
            {
                throw new ActionFailedException(ActionError.Conflict, "Can't edit shared attribute");
            }

            var updated = s.Db.GetTable<UserAttributeRow>().Where(x => x.Id == id && x.UserId == userId)
                .Set(x => x.AttributeKey, a.RequiredText(1))
                .Set(x => x.Value, a.RequiredText(2))
                .Update();
            return updated == 1 ? ActionOutcome.None : throw new ActionFailedException(ActionError.NotFound, $"attribute {id} is not the caller's");
        }));
        actions.Add(new("remove_attribute", [P("id", "uuid")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            s.Db.GetTable<UserAttributeRow>().Where(x => x.Id == id && x.UserId == userId).Delete();
            return ActionOutcome.None;
        }));
        actions.Add(new("share_attribute", [P("id", "uuid"), P("original_attribute_id", "uuid"), P("attribute_key", "text"), P("value", "text")], false, false, (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            var original = a.Uuid(1);
            if (!s.Db.GetTable<UserAttributeRow>().Any(x => x.Id == original))
            {
                throw new ActionFailedException(ActionError.NotFound, $"attribute {original} does not exist");
            }

            InsertAttribute(s, id, userId, a.RequiredText(2), a.RequiredText(3), null);
            s.Db.Insert(new SharedUserAttributeRow { OriginalId = original, CopyId = id });
            return ActionOutcome.None;
        }));
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

    private static void InsertAttribute(ActionScope s, Guid id, Guid userId, string key, string value, string? inserter)
    {
        if (!s.Statements.ExistsWithKey<UserRow>(userId))
        {
            throw new ActionFailedException(ActionError.NotFound, $"user {userId} does not exist");
        }

        s.InsertNew(new UserAttributeRow { Id = id, UserId = userId, AttributeKey = key, Value = value, Inserter = inserter },
            s.Statements.ExistsWithKey<UserAttributeRow>(id), $"attribute {id}");
    }
}
