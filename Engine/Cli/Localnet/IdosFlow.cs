using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Actions;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>What the flow left behind: the marker its credentials carried (and which must then be gone everywhere).</summary>
public sealed record IdosFlowResult(string Marker, Guid UserId, Guid CredentialId, int Transactions)
{
    /// <summary>The user's first wallet (an EVM address, checksummed), which signed the user's own transactions.</summary>
    public string UserAddress { get; init; } = "";
}

/// <summary>
/// The life of one credential on a running network, every step a signed transaction judged by its result code:
/// the owner registers an issuer, the issuer creates a user with an EVM wallet, the user adds a second wallet and a
/// credential, shares a copy under a timelock, fails to revoke the grant early, revokes it once the lock has passed,
/// shares a second copy without a lock, and removes all three credentials. The credentials' content carries a fresh
/// marker, so that erasure can be checked byte for byte afterwards.
/// </summary>
public sealed class IdosFlow(TransactionDriver driver, KwilSigner owner, TextWriter output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Long enough that the early revoke lands before it ends, short enough not to hold the flow up.</summary>
    public static readonly TimeSpan Timelock = TimeSpan.FromSeconds(6);

    private int _transactions;

    /// <param name="whileStored">Called with the marker once the credential is added and before anything is removed.</param>
    public async Task<IdosFlowResult> Run(Func<string, Task>? whileStored = null)
    {
        using var issuerKey = Ed25519PrivateKey.GenerateExportable();
        var issuer = KwilSigner.ForEd25519(issuerKey.PublicKey.Bytes, message => issuerKey.Sign(message));
        var issuerHex = issuer.Caller;
        var firstWallet = EvmKey.Generate();
        var secondWallet = EvmKey.Generate();
        var user = KwilSigner.ForEvm(firstWallet);
        var grantee = EvmKey.Generate().ChecksumAddress;
        var secondGrantee = EvmKey.Generate().ChecksumAddress;
        var inserterId = Guid.NewGuid();
        var userId = Guid.NewGuid();
        var credentialId = Guid.NewGuid();
        var lockedCopyId = Guid.NewGuid();
        var openCopyId = Guid.NewGuid();

        // Each content is 40 base64 characters (valid credential content) holding the marker literally, so the marker
        // can be looked for byte for byte in every file the transactions and rows reach.
        var marker = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(15));

        await Step("owner registers the issuer as an inserter", TxCode.Ok, owner, "add_inserter_as_owner",
            KwilValue.OfUuid(inserterId), KwilValue.OfText("issuer-" + inserterId.ToString("N")[..8]));
        await Step("owner makes the issuer's key a delegate", TxCode.Ok, owner, "add_delegate_as_owner",
            KwilValue.OfText(issuerHex), KwilValue.OfUuid(inserterId));
        await Step("issuer creates the user", TxCode.Ok, issuer, "add_user_as_inserter",
            KwilValue.OfUuid(userId), KwilValue.OfText("user-encryption-key"), KwilValue.OfText("user"));
        await Step("issuer adds the user's first EVM wallet", TxCode.Ok, issuer, "upsert_wallet_as_inserter",
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfUuid(userId), .. WalletProof(firstWallet)]);
        await Step("user adds a second wallet, signed by it", TxCode.Ok, user, "add_wallet", [KwilValue.OfUuid(Guid.NewGuid()), .. WalletProof(secondWallet)]);
        await Step("user adds a credential", TxCode.Ok, user, "add_credential",
            [KwilValue.OfUuid(credentialId), KwilValue.OfText(issuerHex), KwilValue.OfText("encryptor-key"), .. SignedContent(issuerKey, "IdosOrig" + marker + "AA", """{"id":"urn:credential:flow"}""")]);

        if (whileStored is not null)
        {
            await whileStored(marker);
        }

        var lockedUntil = DateTimeOffset.UtcNow.Add(Timelock).ToUnixTimeSeconds();
        await Step($"user shares a copy with {grantee}, locked until {lockedUntil}", TxCode.Ok, user, "share_credential", Share(issuerKey, lockedCopyId, credentialId, "IdosCopy" + marker + "AA", grantee, lockedUntil));
        var grant = CredentialActions.AccessGrantId(grantee, lockedCopyId, lockedUntil);
        await Step("user tries to revoke the grant before its lock ends", TxCode.ForAction(ActionError.Conflict), user, "revoke_access_grant", KwilValue.OfUuid(grant));
        var wait = DateTimeOffset.FromUnixTimeSeconds(lockedUntil + 2) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  waiting {wait.TotalSeconds:0.0} s for the lock to pass"));
            await Task.Delay(wait);
        }

        await Step("user revokes the grant after the lock", TxCode.Ok, user, "revoke_access_grant", KwilValue.OfUuid(grant));
        await Step($"user shares a copy with {secondGrantee} without a lock", TxCode.Ok, user, "share_credential",
            Share(issuerKey, openCopyId, credentialId, "IdosOpen" + marker + "AA", secondGrantee, 0));
        await Step("user removes the unlocked copy", TxCode.Ok, user, "remove_credential", KwilValue.OfUuid(openCopyId));
        await Step("user removes the revoked copy", TxCode.Ok, user, "remove_credential", KwilValue.OfUuid(lockedCopyId));
        await Step("user removes the credential", TxCode.Ok, user, "remove_credential", KwilValue.OfUuid(credentialId));
        return new IdosFlowResult(marker, userId, credentialId, _transactions) { UserAddress = firstWallet.ChecksumAddress };
    }

    private async Task Step(string description, int expectedCode, KwilSigner signer, string action, params KwilValue[] arguments)
    {
        var outcome = await driver.Expect(expectedCode, signer, action, arguments, StepTimeout);
        _transactions++;
        var result = outcome.Code == TxCode.Ok ? "ok" : string.Create(CultureInfo.InvariantCulture, $"refused as expected, code {outcome.Code}: {outcome.Log}");
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {action,-26} height {outcome.Height,6}  {result}  ({description})"));
    }

    /// <summary>
    /// address, public_key, wallet_type, message, signature as the wallet actions order them: the wallet's proof that
    /// it consents, a message naming itself that it signs (EIP-191).
    /// </summary>
    public static KwilValue[] WalletProof(EvmKey wallet)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        var message = $"Sign this message to add wallet {wallet.ChecksumAddress} to idOS";
        var signature = "0x" + Convert.ToHexStringLower(wallet.SignPersonal(Encoding.UTF8.GetBytes(message)));
        return [KwilValue.OfText(wallet.ChecksumAddress), KwilValue.OfText(null), KwilValue.OfText("EVM"), KwilValue.OfText(message), KwilValue.OfText(signature)];
    }

    /// <summary>content, public_notes, public_notes_signature, broader_signature as add_credential orders them.</summary>
    public static KwilValue[] SignedContent(Ed25519PrivateKey issuer, string content, string publicNotes)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var (notesSignature, broaderSignature) = Signatures(issuer, content, publicNotes);
        return [KwilValue.OfText(content), KwilValue.OfText(publicNotes), KwilValue.OfText(notesSignature), KwilValue.OfText(broaderSignature)];
    }

    /// <summary>share_credential's arguments: a copy of <paramref name="originalId"/> for <paramref name="grantee"/>, signed by the issuer.</summary>
    public static KwilValue[] Share(Ed25519PrivateKey issuer, Guid copyId, Guid originalId, string content, string grantee, long lockedUntil)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var (notesSignature, broaderSignature) = Signatures(issuer, content, "");
        var contentHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
        return
        [
            KwilValue.OfUuid(copyId), KwilValue.OfUuid(originalId), KwilValue.OfText(""), KwilValue.OfText(notesSignature), KwilValue.OfText(broaderSignature),
            KwilValue.OfText(content), KwilValue.OfText(contentHash), KwilValue.OfText("encryptor-key"), KwilValue.OfText(issuer.PublicKey.ToString()),
            KwilValue.OfText(grantee), KwilValue.OfWholeNumber(lockedUntil),
        ];
    }

    /// <summary>As the SDK signs credentials: the notes, then the notes' signature followed by the decoded content.</summary>
    private static (string Notes, string Broader) Signatures(Ed25519PrivateKey issuer, string content, string publicNotes)
    {
        var notesSignature = issuer.Sign(Encoding.UTF8.GetBytes(publicNotes));
        var broader = issuer.Sign([.. notesSignature, .. Convert.FromBase64String(content)]);
        return (Convert.ToBase64String(notesSignature), Convert.ToBase64String(broader));
    }
}
