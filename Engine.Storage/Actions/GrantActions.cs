using System.Globalization;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>Delegated write and access grants: an owner's signed message lets another party act for them.</summary>
internal static class GrantActions
{
    private const string DateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    /// <summary>
    /// Our form of `idos.dwg_message` (the precompile's bytes are not public): the documented
    /// fields in their documented order, one `name: value` line each. `dwg_message` hands clients exactly this text
    /// and `create_credentials_by_dwg` verifies the owner's signature over it.
    /// </summary>
    public static string DelegatedWriteGrantMessage(string owner, string grantee, string issuerPublicKey, Guid id, string timelock, string notBefore, string notAfter) =>
        string.Create(CultureInfo.InvariantCulture,
            $"operation: delegatedWriteGrant\nowner: {owner}\ngrantee: {grantee}\nissuer public key: {issuerPublicKey}\nid: {id:D}\naccess grant timelock: {timelock}\nnot usable before: {notBefore}\nnot usable after: {notAfter}");

    /// <summary>`idos.dag_message`, in the last layout the schema published in SQL.</summary>
    public static string DelegatedAccessGrantMessage(string owner, string grantee, Guid dataId, long lockedUntil, string contentHash) =>
        string.Create(CultureInfo.InvariantCulture,
            $"operation: insertAccessGrant\nowner: {owner}\ngrantee: {grantee}\ndataId: {dataId:D}\nlockedUntil: {lockedUntil}\ncontentHash: {contentHash}");

    public static void Register(ActionTable actions)
    {
        actions.Add("dwg_message", (_, a) =>
        {
            ParseDate(a.RequiredText(4), "access_grant_timelock");
            ValidateNotUsableTimes(a.RequiredText(5), a.RequiredText(6));
            return ActionOutcome.Table(["message"], [[DelegatedWriteGrantMessage(a.RequiredText(0), a.RequiredText(1), a.RequiredText(2), a.Uuid(3), a.RequiredText(4), a.RequiredText(5), a.RequiredText(6))]]);
        });
        actions.Add("dag_message", (_, a) =>
                ActionOutcome.Table(["message"], [[DelegatedAccessGrantMessage(a.RequiredText(0), a.RequiredText(1), a.Uuid(2), a.WholeNumber(3), a.RequiredText(4))]]));
        actions.Add("create_credentials_by_dwg", CreateCredentialsByDwg);
        actions.Add("create_ag_by_dag_for_copy", (s, a) =>
        {
            var owner = a.RequiredText(0);
            var grantee = a.RequiredText(1);
            var dataId = a.Uuid(2);
            var lockedUntil = a.WholeNumber(3);
            var contentHash = a.RequiredText(4);
            var wallet = OwnerWallet(s, owner);
            VerifyOwner(wallet, owner, DelegatedAccessGrantMessage(owner, grantee, dataId, lockedUntil, contentHash), a.RequiredText(5));
            if (!s.Db.GetTable<CredentialRow>().Any(c => c.Id == dataId && c.UserId == wallet.UserId))
            {
                throw new ActionFailedException(ActionError.NotFound, "the credential does not belong to the dAG's owner");
            }

            CredentialActions.CreateAccessGrant(s, grantee, dataId, lockedUntil, contentHash, "dag_message", s.Context.Caller);
            return ActionOutcome.None;
        });
    }

    private static ActionOutcome CreateCredentialsByDwg(ActionScope s, ActionArguments a)
    {
        var issuer = a.RequiredText(0);
        var dwgIssuer = a.RequiredText(15);
        var issuerLower = issuer.ToLowerInvariant();
        var dwgIssuerLower = dwgIssuer.ToLowerInvariant();
        var inserters = s.Db.GetTable<DelegateRow>().Where(d => d.Address == issuerLower || d.Address == dwgIssuerLower).Select(d => new { d.Address, d.InserterId }).ToList();
        var ofIssuer = inserters.FirstOrDefault(d => d.Address == issuerLower);
        var ofDwgIssuer = inserters.FirstOrDefault(d => d.Address == dwgIssuerLower);
        if (ofIssuer is null || ofDwgIssuer is null || ofIssuer.InserterId != ofDwgIssuer.InserterId)
        {
            throw new ActionFailedException(ActionError.Unauthorized, "credentials issuer must be an issuer of delegated write grant");
        }

        var owner = a.RequiredText(13);
        var grantee = a.RequiredText(14);
        var dwgId = a.Uuid(16);
        var timelockText = a.RequiredText(17);
        var notBefore = a.RequiredText(18);
        var notAfter = a.RequiredText(19);
        var wallet = OwnerWallet(s, owner);
        var timelock = ParseDate(timelockText, "dwg_access_grant_timelock");
        var (from, until) = ValidateNotUsableTimes(notBefore, notAfter);
        if (from > s.Context.BlockTimestamp + 65 || s.Context.BlockTimestamp > until)
        {
            throw new ActionFailedException(ActionError.Conflict, "this write grant can only be used after dwg_not_before and before dwg_not_after");
        }

        VerifyOwner(wallet, owner, DelegatedWriteGrantMessage(owner, grantee, dwgIssuer, dwgId, timelockText, notBefore, notAfter), a.RequiredText(20));
        if (s.Db.GetTable<ConsumedWriteGrantRow>().Any(g => g.Id == dwgId))
        {
            throw new ActionFailedException(ActionError.Conflict, $"delegated write grant {dwgId} was already used");
        }

        var originalId = a.Uuid(2);
        var copyId = a.Uuid(8);
        var inserter = dwgId.ToString("D");
        CredentialActions.InsertCredential(s, originalId, wallet.UserId, issuer, a.RequiredText(1), a.RequiredText(3), a.RequiredText(4), a.RequiredText(5), a.RequiredText(6), inserter);
        CredentialActions.InsertCredential(s, copyId, wallet.UserId, issuer, a.RequiredText(7), a.RequiredText(9), "", a.RequiredText(10), a.RequiredText(11), inserter);
        s.Db.Insert(new SharedCredentialRow { OriginalId = originalId, CopyId = copyId });
        CredentialActions.CreateAccessGrant(s, grantee, copyId, timelock, a.RequiredText(12), "delegated_write_grant", inserter);
        s.Db.Insert(new ConsumedWriteGrantRow
        {
            Id = dwgId,
            OwnerWalletIdentifier = owner,
            GranteeWalletIdentifier = grantee,
            IssuerPublicKey = dwgIssuer,
            OriginalCredentialId = originalId,
            CopyCredentialId = copyId,
            AccessGrantTimelock = timelockText,
            NotUsableBefore = notBefore,
            NotUsableAfter = notAfter,
        });
        return ActionOutcome.None;
    }

    /// <summary>The wallet a grant's owner identifier names: an address (NOCASE) or, for NEAR, its public key.</summary>
    private static WalletRow OwnerWallet(ActionScope s, string owner)
    {
        var lower = owner.ToLowerInvariant();
        return s.Db.GetTable<WalletRow>().Where(w => w.Address.ToLower() == lower || w.PublicKey == owner).OrderBy(w => w.Id).FirstOrDefault()
            ?? throw new ActionFailedException(ActionError.NotFound, $"no wallet {owner} is registered");
    }

    private static void VerifyOwner(WalletRow wallet, string owner, string message, string signature)
    {
        if (WalletProofs.SignatureProblem(wallet.WalletType, wallet.Address, wallet.PublicKey ?? (wallet.WalletType == "NEAR" ? owner : null), message, signature,
                Secp256k1.Recovery) is { } problem)
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"the owner's signature does not verify: {problem}");
        }
    }

    /// <summary>`idos.parse_date`: RFC 3339 in UTC to the second (2026-11-23T10:00:00Z), as unix seconds.</summary>
    private static long ParseDate(string text, string what) =>
        DateTimeOffset.TryParseExact(text, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value.ToUnixTimeSeconds()
            : throw new ActionFailedException(ActionError.BadArguments, $"{what} '{text}' is not a date in the form 2026-11-23T10:00:00Z");

    /// <summary>`idos.validate_not_usable_times`: both dates parse and the window is not empty.</summary>
    internal static (long From, long Until) ValidateNotUsableTimes(string notBefore, string notAfter)
    {
        var from = ParseDate(notBefore, "not_usable_before");
        var until = ParseDate(notAfter, "not_usable_after");
        return from < until ? (from, until) : throw new ActionFailedException(ActionError.BadArguments, "not_usable_before must be earlier than not_usable_after");
    }
}
