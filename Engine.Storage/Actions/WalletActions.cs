using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>Wallets a user signs with, each checked against its proof of control.</summary>
internal static class WalletActions
{
    public static void Register(ActionTable actions)
    {
        actions.Add("add_wallet", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var row = CheckedWallet(s, a.Uuid(0), userId, a, 1);
            s.InsertNew(row, $"wallet {row.Id}");
            return ActionOutcome.None;
        });
        actions.Add("upsert_wallet_as_inserter", (s, a) =>
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
        });
        actions.Add("get_wallets", (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            return ActionOutcome.Table(["id", "user_id", "address", "public_key", "wallet_type", "message", "signature", "inserter"],
                s.Db.GetTable<WalletRow>().Where(w => w.UserId == userId).OrderBy(w => w.Id).AsEnumerable()
                    .Select(w => new object?[] { w.Id, w.UserId, w.Address, w.PublicKey, w.WalletType, w.Message, w.Signature, w.Inserter }));
        });
        actions.Add("remove_wallet", (s, a) =>
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
        });
    }

    /// <summary>The checks add_wallet and upsert_wallet_as_inserter share, in schema.sql's order; '' as public key is NULL.</summary>
    private static WalletRow CheckedWallet(ActionScope s, Guid id, Guid userId, ActionArguments a, int first)
    {
        var address = a.RequiredText(first);
        var publicKey = a.Text(first + 1) is { Length: > 0 } key ? key : null;
        var walletType = a.RequiredText(first + 2);
        var message = a.Text(first + 3);
        var signature = a.Text(first + 4);
        WalletProofs.Check(address, publicKey, walletType, message, signature, Secp256k1.Recovery);
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
}
