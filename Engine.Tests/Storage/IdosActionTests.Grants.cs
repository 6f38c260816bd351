using System.Globalization;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Tests.Vectors;
using LinqToDB;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>Delegated write and access grants, credential edits, inserter upserts and the grantee's reads by user.</summary>
public abstract partial class IdosActionTests<TStore>
{
    private const string NotBefore = "2023-11-14T00:00:00Z";
    private const string NotAfter = "2023-11-16T00:00:00Z";
    private const string Timelock = "2023-12-01T00:00:00Z";
    private const string Grantee = "0x00000000000000000000000000000000000000ee";
    private static readonly EvmKey UserWallet = EvmKey.FromSecret(EthersVectors.Hex(EthersVectors.All[0].PrivateKey));

    [Fact]
    public void A_delegated_write_grant_signed_by_the_owner_creates_credential_copy_and_grant_once()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var dwgId = Guid.NewGuid();
        var message = Assert.Single(Run("0xanyone", "dwg_message", DwgMessageArguments(dwgId, NotBefore, NotAfter)).Rows)[0] as string;
        Assert.StartsWith("operation: delegatedWriteGrant\nowner: " + UserAddress, message, StringComparison.Ordinal);
        var signature = "0x" + Convert.ToHexStringLower(UserWallet.SignPersonal(System.Text.Encoding.UTF8.GetBytes(message!)));
        var signedElsewhere = "0x" + Convert.ToHexStringLower(UserWallet.SignPersonal("another text"u8));
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();

        Assert.Equal(ActionError.InvalidProof, Refusal("0xanyone", "create_credentials_by_dwg", Dwg(issuer.Key, original, copy, dwgId, NotBefore, NotAfter, signedElsewhere)).Error);
        Assert.Equal(ActionError.Conflict, Refusal("0xanyone", "create_credentials_by_dwg",
            Dwg(issuer.Key, original, copy, dwgId, "2023-11-20T00:00:00Z", "2023-11-21T00:00:00Z", signature)).Error);
        Assert.Equal(ActionError.BadArguments, Refusal("0xanyone", "create_credentials_by_dwg", Dwg(issuer.Key, original, copy, dwgId, "yesterday", NotAfter, signature)).Error);
        Run("0xanyone", "create_credentials_by_dwg", Dwg(issuer.Key, original, copy, dwgId, NotBefore, NotAfter, signature));

        var grant = State.Connection.GetTable<AccessGrantRow>().Single();
        Assert.Equal((copy, "delegated_write_grant", dwgId.ToString("D"), DateTimeOffset.Parse(Timelock, CultureInfo.InvariantCulture).ToUnixTimeSeconds()),
            (grant.DataId, grant.InserterType, grant.InserterId, grant.LockedUntil));
        Assert.Equal(original, State.Connection.GetTable<SharedCredentialRow>().Single(l => l.CopyId == copy).OriginalId);
        Assert.Equal(2, State.Connection.GetTable<CredentialRow>().Count(c => c.UserId == User && c.Inserter == dwgId.ToString("D")));
        Assert.Contains("already used", Refusal("0xanyone", "create_credentials_by_dwg",
            Dwg(issuer.Key, Guid.NewGuid(), Guid.NewGuid(), dwgId, NotBefore, NotAfter, signature)).Message, StringComparison.Ordinal);

        using var stranger = Key.Create(SignatureAlgorithm.Ed25519);
        Assert.Contains("issuer of delegated write grant", Refusal("0xanyone", "create_credentials_by_dwg",
            Dwg(stranger, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), NotBefore, NotAfter, signature)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delegated_access_grant_signed_by_the_owner_lets_anyone_create_the_grant_for_the_owners_data()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var credential = Guid.NewGuid();
        Run(UserAddress, "add_credential", Credential(credential, issuer.Key, issuer.Hex, "{}", "c2VjcmV0"));
        KwilValue[] dag = [KwilValue.OfText(UserAddress), KwilValue.OfText(Grantee), KwilValue.OfUuid(credential), KwilValue.OfWholeNumber(1_800_000_000), KwilValue.OfText("hash")];
        var message = (string)Assert.Single(Run("0xanyone", "dag_message", dag).Rows)[0]!;
        var signature = Convert.ToHexStringLower(UserWallet.SignPersonal(System.Text.Encoding.UTF8.GetBytes(message)));

        Assert.Equal(ActionError.InvalidProof, Refusal("0xrelayer", "create_ag_by_dag_for_copy", [.. dag[..4], KwilValue.OfText("other-hash"), KwilValue.OfText(signature)]).Error);
        Assert.Equal(ActionError.NotFound, Refusal("0xrelayer", "create_ag_by_dag_for_copy",
            [KwilValue.OfText("0x0000000000000000000000000000000000000001"), .. dag[1..], KwilValue.OfText(signature)]).Error);
        Run("0xrelayer", "create_ag_by_dag_for_copy", [.. dag, KwilValue.OfText(signature)]);

        var grant = State.Connection.GetTable<AccessGrantRow>().Single();
        Assert.Equal(("dag_message", "0xrelayer", 1_800_000_000L), (grant.InserterType, grant.InserterId, grant.LockedUntil));
    }

    [Fact]
    public void Credentials_are_edited_by_their_owner_unless_shared_and_public_notes_by_their_issuer()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var credential = Guid.NewGuid();
        var copy = Guid.NewGuid();
        Run(UserAddress, "add_credential", Credential(credential, issuer.Key, issuer.Hex, "{\"id\":\"vc-9\"}", "c2VjcmV0"));

        var edit = Edit(credential, issuer.Key, issuer.Hex, "{\"id\":\"vc-9\",\"v\":2}", "bmV3");
        Assert.Equal(ActionError.NotFound, Refusal("0x0000000000000000000000000000000000000009", "edit_credential", edit).Error);
        Assert.Equal(ActionError.InvalidProof, Refusal(UserAddress, "edit_credential", [.. edit[..3], KwilValue.OfText("AAAA"), .. edit[4..]]).Error);
        Run(UserAddress, "edit_credential", edit);
        Assert.Equal("bmV3", State.Connection.GetTable<CredentialRow>().Single(c => c.Id == credential).Content);

        Run(issuer.Hex, "edit_public_notes_as_issuer", KwilValue.OfText("vc-9"), KwilValue.OfText("{\"id\":\"vc-9\",\"revoked\":true}"));
        Assert.Contains("revoked", State.Connection.GetTable<CredentialRow>().Single(c => c.Id == credential).PublicNotes, StringComparison.Ordinal);
        Assert.Equal(ActionError.NotFound, Refusal(IssuerKey, "edit_public_notes_as_issuer", KwilValue.OfText("vc-9"), KwilValue.OfText("{}")).Error);

        Run(UserAddress, "share_credential", Share(copy, credential, issuer.Key, issuer.Hex, "", Grantee, 0));
        Assert.Contains("access grants", Refusal(UserAddress, "edit_credential", Edit(copy, issuer.Key, issuer.Hex, "", "bmV3")).Message, StringComparison.Ordinal);
        State.Connection.GetTable<AccessGrantRow>().Delete();
        Assert.Contains("shared copy", Refusal(UserAddress, "edit_credential", Edit(copy, issuer.Key, issuer.Hex, "", "bmV3")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inserters_upsert_credentials_for_existing_users_and_ask_whether_one_exists()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var credential = Guid.NewGuid();
        KwilValue[] Upsert(Guid user, string content)
        {
            var fields = Credential(credential, issuer.Key, issuer.Hex, "{}", content);
            return [fields[0], KwilValue.OfUuid(user), .. fields[1..]];
        }

        Assert.Equal(ActionError.Unauthorized, Refusal(UserAddress, "upsert_credential_as_inserter", Upsert(User, "c2VjcmV0")).Error);
        Assert.Equal(ActionError.NotFound, Refusal(IssuerKey, "upsert_credential_as_inserter", Upsert(Guid.NewGuid(), "c2VjcmV0")).Error);
        Assert.False((bool)Run(IssuerKey, "credential_exist_as_inserter", KwilValue.OfUuid(credential)).Rows[0][0]!);
        Run(IssuerKey, "upsert_credential_as_inserter", Upsert(User, "c2VjcmV0"));
        Run(IssuerKey, "upsert_credential_as_inserter", Upsert(User, "bmV3"));

        var stored = State.Connection.GetTable<CredentialRow>().Single();
        Assert.Equal(("bmV3", "issuer"), (stored.Content, stored.Inserter));
        Assert.True((bool)Run(IssuerKey, "credential_exist_as_inserter", KwilValue.OfUuid(credential)).Rows[0][0]!);
        Assert.Equal(ActionError.Unauthorized, Refusal(UserAddress, "credential_exist_as_inserter", KwilValue.OfUuid(credential)).Error);
    }

    [Fact]
    public void A_grantee_lists_the_copies_a_user_shared_with_them_filtered_by_the_original_issuer()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();
        Run(UserAddress, "add_credential", Credential(original, issuer.Key, issuer.Hex, "{\"id\":\"vc-5\"}", "c2VjcmV0"));
        Run(UserAddress, "share_credential", Share(copy, original, issuer.Key, issuer.Hex, "", Grantee, 0));

        var shared = Assert.Single(Run(Grantee, "get_credentials_shared_by_user", KwilValue.OfUuid(User), KwilValue.OfText(null)).Rows);
        Assert.Equal((copy, "{\"id\":\"vc-5\"}", original), ((Guid)shared[0]!, (string)shared[2]!, (Guid)shared[6]!));
        Assert.Single(Run(Grantee, "get_credentials_shared_by_user", KwilValue.OfUuid(User), KwilValue.OfText(issuer.Hex)).Rows);
        Assert.Empty(Run(Grantee, "get_credentials_shared_by_user", KwilValue.OfUuid(User), KwilValue.OfText("00")).Rows);
        Assert.Empty(Run("0x0000000000000000000000000000000000000009", "get_credentials_shared_by_user", KwilValue.OfUuid(User), KwilValue.OfText(null)).Rows);
    }

    [Fact]
    public void Token_bridge_actions_are_refused_as_not_supported_and_near_wallets_prove_control_with_nep413()
    {
        AddUserWithWallet();
        Assert.Equal(ActionError.NotSupported, Refusal(UserAddress, "get_wallet_with_balance", KwilValue.OfText("IDOS")).Error);

        using var near = Key.Create(SignatureAlgorithm.Ed25519);
        var publicKey = Nep413.KeyName(near.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        const string Message = "add my NEAR wallet to idOS";
        var signature = Convert.ToBase64String(Nep413.Sign(near, Message, new byte[32], "idos-issuer"));
        KwilValue[] Wallet(string message, string proof) =>
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("alice.near"), KwilValue.OfText(publicKey), KwilValue.OfText("NEAR"), KwilValue.OfText(message), KwilValue.OfText(proof)];

        Assert.Contains("another message", Refusal(UserAddress, "add_wallet", Wallet("something else", signature)).Message, StringComparison.Ordinal);
        Run(UserAddress, "add_wallet", Wallet(Message, signature));
        Assert.Equal(User, Run(publicKey, "get_user").Rows[0][0]);
    }

    private static KwilValue[] DwgMessageArguments(Guid dwgId, string notBefore, string notAfter) =>
        [KwilValue.OfText(UserAddress), KwilValue.OfText(Grantee), KwilValue.OfText(IssuerKey), KwilValue.OfUuid(dwgId), KwilValue.OfText(Timelock),
         KwilValue.OfText(notBefore), KwilValue.OfText(notAfter)];

    private static KwilValue[] Dwg(Key issuer, Guid original, Guid copy, Guid dwgId, string notBefore, string notAfter, string signature)
    {
        var issuerHex = Convert.ToHexStringLower(issuer.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        var (originalNotes, originalBroader) = Sign(issuer, "{\"id\":\"vc-dwg\"}", "c2VjcmV0", forge: false);
        var (copyNotes, copyBroader) = Sign(issuer, "", "Y29weQ==", forge: false);
        return
        [
            KwilValue.OfText(issuerHex), KwilValue.OfText("encryptor"), KwilValue.OfUuid(original), KwilValue.OfText("c2VjcmV0"), KwilValue.OfText("{\"id\":\"vc-dwg\"}"),
            KwilValue.OfText(originalNotes), KwilValue.OfText(originalBroader), KwilValue.OfText("copy-encryptor"), KwilValue.OfUuid(copy), KwilValue.OfText("Y29weQ=="),
            KwilValue.OfText(copyNotes), KwilValue.OfText(copyBroader), KwilValue.OfText("hash"), KwilValue.OfText(UserAddress), KwilValue.OfText(Grantee),
            KwilValue.OfText(IssuerKey), KwilValue.OfUuid(dwgId), KwilValue.OfText(Timelock), KwilValue.OfText(notBefore), KwilValue.OfText(notAfter), KwilValue.OfText(signature),
        ];
    }

    private static KwilValue[] Edit(Guid id, Key issuer, string issuerHex, string notes, string content)
    {
        var (notesSignature, broader) = Sign(issuer, notes, content, forge: false);
        return [KwilValue.OfUuid(id), KwilValue.OfText(notes), KwilValue.OfText(notesSignature), KwilValue.OfText(broader), KwilValue.OfText(content),
            KwilValue.OfText("encryptor"), KwilValue.OfText(issuerHex)];
    }

    /// <summary>A credential-signing key registered as a second delegate of the user's inserter, as issuers' keys are.</summary>
    private IssuerKeyPair IssuerOfInserter()
    {
        var key = Key.Create(SignatureAlgorithm.Ed25519);
        var hex = Convert.ToHexStringLower(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        Run(OwnerKey, "add_delegate_as_owner", KwilValue.OfText(hex), KwilValue.OfUuid(Inserter));
        return new IssuerKeyPair(key, hex);
    }

    private sealed record IssuerKeyPair(Key Key, string Hex) : IDisposable
    {
        public void Dispose() => Key.Dispose();
    }
}
