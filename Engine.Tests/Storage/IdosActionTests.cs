using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Actions;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Tests.Vectors;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>The idOS actions built so far, each refusal path included, on SQLite and on PostgreSQL.</summary>
public abstract partial class IdosActionTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private const string OwnerKey = "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0";
    private const string IssuerKey = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";
    private const string UserAddress = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
    private static readonly Guid Inserter = Guid.Parse("11111111-1111-4111-8111-111111111111");
    private static readonly Guid User = Guid.Parse("22222222-2222-4222-8222-222222222222");
    private StateDatabase? _state;

    private StateDatabase State => _state ??= StateDatabase.Open(Options);

    [Fact]
    public void Only_the_owner_registers_inserters_and_delegates_and_only_a_delegate_adds_users()
    {
        Assert.Equal(ActionError.Unauthorized, Refusal(IssuerKey, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")).Error);
        Run(OwnerKey, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer"));
        Assert.Equal(ActionError.Conflict, Refusal(OwnerKey, "add_inserter_as_owner", KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("issuer")).Error);
        Assert.Equal(ActionError.NotFound, Refusal(OwnerKey, "add_delegate_as_owner", KwilValue.OfText(IssuerKey), KwilValue.OfUuid(Guid.NewGuid())).Error);

        var before = Refusal(IssuerKey, "add_user_as_inserter", UserArguments("user"));
        Assert.Equal("Unauthorized inserter", before.Message);
        Run(OwnerKey, "add_delegate_as_owner", KwilValue.OfText(IssuerKey.ToUpperInvariant()), KwilValue.OfUuid(Inserter));
        Run(IssuerKey, "add_user_as_inserter", UserArguments("user"));

        Assert.Equal("issuer", State.Connection.GetTable<UserRow>().Single(u => u.Id == User).Inserter);
        Assert.Equal(ActionError.Conflict, Refusal(IssuerKey, "add_user_as_inserter", UserArguments("user")).Error);
        Assert.Contains("'user' or 'mpc'", Refusal(IssuerKey, "add_user_as_inserter", UserArguments("cloud")).Message, StringComparison.Ordinal);
        var asInserter = Run(IssuerKey, "get_user_as_inserter", KwilValue.OfUuid(User));
        Assert.Equal("issuer", Assert.Single(asInserter.Rows)[3]);
    }

    [Fact]
    public void A_user_finds_their_profile_by_any_case_of_their_evm_address()
    {
        AddUserWithWallet();

        var profile = Run(UserAddress, "get_user");

        Assert.Equal(["id", "recipient_encryption_public_key", "encryption_password_store"], profile.Columns);
        Assert.Equal(User, Assert.Single(profile.Rows)[0]);
        Assert.Equal(true, Run("0xabc", "has_profile", KwilValue.OfText(UserAddress.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal))).Rows[0][0]);
        Assert.Equal(false, Run("0xabc", "has_profile", KwilValue.OfText("0x0000000000000000000000000000000000000000")).Rows[0][0]);
        Assert.Equal(ActionError.NotFound, Refusal("0x0000000000000000000000000000000000000001", "get_user").Error);
    }

    [Fact]
    public void Attributes_are_added_shared_edited_and_removed_and_a_shared_copy_cannot_be_edited()
    {
        AddUserWithWallet();
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();

        Run(UserAddress, "add_attribute", KwilValue.OfUuid(original), KwilValue.OfText("nickname"), KwilValue.OfText("alice"));
        Run(UserAddress, "share_attribute", KwilValue.OfUuid(copy), KwilValue.OfUuid(original), KwilValue.OfText("nickname"), KwilValue.OfText("alice"));
        Run(UserAddress, "edit_attribute", KwilValue.OfUuid(original), KwilValue.OfText("nickname"), KwilValue.OfText("bob"));

        var attributes = Run(UserAddress, "get_attributes");
        var byId = attributes.Rows.ToDictionary(r => (Guid)r[0]!);
        Assert.Equal("bob", byId[original][3]);
        Assert.Null(byId[original][4]);
        Assert.Equal(original, byId[copy][4]);
        Assert.Equal("Can't edit shared attribute", Refusal(UserAddress, "edit_attribute", KwilValue.OfUuid(copy), KwilValue.OfText("k"), KwilValue.OfText("v")).Message);
        Assert.Equal(ActionError.Conflict, Refusal(UserAddress, "add_attribute", KwilValue.OfUuid(original), KwilValue.OfText("k"), KwilValue.OfText("v")).Error);

        // Removing the original removes the link (cascade), not the copy, which is a row of its own.
        Run(UserAddress, "remove_attribute", KwilValue.OfUuid(original));
        var left = Assert.Single(Run(UserAddress, "get_attributes").Rows);
        Assert.Equal(copy, left[0]);
        Assert.Null(left[4]);
    }

    [Fact]
    public void Calls_are_checked_before_they_run()
    {
        AddUserWithWallet();

        Assert.Equal(ActionError.UnknownAction, Refusal(UserAddress, "drop_everything").Error);
        Assert.Equal(ActionError.Unauthorized,
            Assert.Throws<ActionFailedException>(() => IdosActions.Execute(State.Connection, Context(UserAddress), "main", "add_attribute",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("k"), KwilValue.OfText("v")], fromView: true)).Error);
        Assert.Contains("takes 3 arguments, got 1", Refusal(UserAddress, "add_attribute", KwilValue.OfText("x")).Message, StringComparison.Ordinal);
        Assert.Contains("argument 1 (id) must be a UUID",
            Refusal(UserAddress, "add_attribute", KwilValue.OfText("not-a-uuid"), KwilValue.OfText("k"), KwilValue.OfText("v")).Message, StringComparison.Ordinal);
        Assert.Contains("namespace 'other'",
            Assert.Throws<ActionFailedException>(() => IdosActions.Execute(State.Connection, Context(UserAddress), "other", "get_user", [], fromView: true)).Message,
            StringComparison.Ordinal);

        // A uuid sent as text (as non-SDK callers do) is cast, as Kwil casts arguments to the declared type.
        Run(UserAddress, "add_attribute", KwilValue.OfText(Guid.NewGuid().ToString()), KwilValue.OfText("k"), KwilValue.OfText("v"));
    }

    [Fact]
    public void A_wallet_is_added_with_its_owners_signature_listed_and_removed_but_never_the_one_in_use()
    {
        AddUserWithWallet();
        var second = EthersVectors.All.First(v => v.PrivateKey.EndsWith("2222", StringComparison.Ordinal) && v.MessageText.Contains('✓', StringComparison.Ordinal));
        var third = EthersVectors.All.First(v => v.PrivateKey.EndsWith("7f7f", StringComparison.Ordinal));
        var walletId = Guid.NewGuid();

        var forged = Refusal(UserAddress, "add_wallet", Wallet(Guid.NewGuid(), second.Address, second.MessageText, third.Signature));
        Assert.Equal(ActionError.InvalidProof, forged.Error);
        Assert.Contains($"not {second.Address}", forged.Message, StringComparison.Ordinal);
        Assert.Equal(ActionError.InvalidProof, Refusal(UserAddress, "add_wallet", Wallet(Guid.NewGuid(), second.Address, second.MessageText, second.MalleatedSignature)).Error);
        Assert.Contains("not supported yet", Refusal(UserAddress, "add_wallet",
            KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59"), KwilValue.OfText("ED00"), KwilValue.OfText("XRPL"),
            KwilValue.OfText("m"), KwilValue.OfText("s")).Message, StringComparison.Ordinal);
        Assert.Contains("not one of", Refusal(UserAddress, "add_wallet",
            KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("x"), KwilValue.OfText(null), KwilValue.OfText("Bitcoin"), KwilValue.OfText("m"), KwilValue.OfText("s")).Message,
            StringComparison.Ordinal);

        Run(UserAddress, "add_wallet", Wallet(walletId, second.Address, second.MessageText, second.Signature));
        Assert.Contains("already exists", Refusal(UserAddress, "add_wallet", Wallet(Guid.NewGuid(), second.Address.ToLowerInvariant(), second.MessageText, second.Signature)).Message,
            StringComparison.Ordinal);
        var wallets = Run(second.Address, "get_wallets");
        Assert.Equal(2, wallets.Rows.Count);
        Assert.Null(wallets.Rows.Single(r => (Guid)r[0]! == walletId)[3]);

        var own = Refusal(second.Address, "remove_wallet", KwilValue.OfUuid(walletId));
        Assert.Contains("connect other wallet", own.Message, StringComparison.Ordinal);
        Run(UserAddress, "remove_wallet", KwilValue.OfUuid(walletId));
        Assert.Single(Run(UserAddress, "get_wallets").Rows);
    }

    [Fact]
    public void A_credential_is_added_shared_under_a_timelock_revoked_only_after_it_and_removed()
    {
        AddUserWithWallet();
        using var issuer = NSec.Cryptography.Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519);
        var issuerHex = Convert.ToHexStringLower(issuer.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();
        const long Lock = 1_700_000_100;
        const string Grantee = "0xdef";
        const string Notes = "{\"id\":\"vc-1\"}";

        Assert.Equal(ActionError.InvalidProof, Refusal(UserAddress, "add_credential", Credential(original, issuer, issuerHex, Notes, "c2VjcmV0", forge: true)).Error);
        Run(UserAddress, "add_credential", Credential(original, issuer, issuerHex, Notes, "c2VjcmV0"));
        Assert.Equal("vc-1", State.Connection.GetTable<CredentialRow>().Single(c => c.Id == original).VerifiableCredentialId);
        Assert.Contains("empty public_notes", Refusal(UserAddress, "share_credential", Share(copy, original, issuer, issuerHex, "{}", Grantee, Lock)).Message, StringComparison.Ordinal);

        Run(UserAddress, "share_credential", Share(copy, original, issuer, issuerHex, "", Grantee, Lock));
        var grant = Assert.Single(Run(UserAddress, "get_access_grants_owned").Rows);
        Assert.Equal(CredentialProofs.UuidV5(Guid.Parse("31276fd4-105f-4ff7-9f64-644942c14b79"), $"{Grantee}-{copy:D}-{Lock}"), grant[0]);
        Assert.Equal(ActionError.Conflict, Refusal(UserAddress, "share_credential", Share(copy, original, issuer, issuerHex, "", Grantee, Lock)).Error);
        Assert.Equal(original, Run(UserAddress, "get_credentials").Rows.Single(r => (Guid)r[0]! == copy)[5]);

        // The block's time, never the local clock, decides the lock: at or before locked_until the grant stays.
        var early = Assert.Throws<ActionFailedException>(() => IdosActions.Execute(State.Connection, Context(UserAddress) with { BlockTimestamp = Lock }, "main",
            "revoke_access_grant", [KwilValue.OfUuid((Guid)grant[0]!)], fromView: false));
        Assert.Contains("locked until", early.Message, StringComparison.Ordinal);
        Assert.Contains("locked access grants", Assert.Throws<ActionFailedException>(() => IdosActions.Execute(State.Connection,
            Context(UserAddress) with { BlockTimestamp = Lock }, "main", "remove_credential", [KwilValue.OfUuid(copy)], fromView: false)).Message, StringComparison.Ordinal);
        IdosActions.Execute(State.Connection, Context(UserAddress) with { BlockTimestamp = Lock + 1 }, "main",
            "revoke_access_grant", [KwilValue.OfUuid((Guid)grant[0]!)], fromView: false);
        Assert.Empty(Run(UserAddress, "get_access_grants_owned").Rows);

        Run(UserAddress, "remove_credential", KwilValue.OfUuid(original));
        Assert.Empty(State.Connection.GetTable<SharedCredentialRow>());
        Assert.Equal(ActionError.NotFound, Refusal(UserAddress, "remove_credential", KwilValue.OfUuid(original)).Error);
    }

    [Fact]
    public void A_grantee_reads_what_was_shared_with_them_and_nobody_else_learns_whether_it_exists()
    {
        AddUserWithWallet();
        using var issuer = NSec.Cryptography.Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519);
        var issuerHex = Convert.ToHexStringLower(issuer.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();
        Run(UserAddress, "add_credential", Credential(original, issuer, issuerHex, "{\"id\":\"vc-2\"}", "c2VjcmV0"));
        Run(UserAddress, "share_credential", Share(copy, original, issuer, issuerHex, "", "0xdef", 0));

        var granted = Run("0xDEF", "get_access_grants_granted", KwilValue.OfUuid(null), KwilValue.OfWholeNumber(1), KwilValue.OfWholeNumber(20));
        Assert.Equal(copy, Assert.Single(granted.Rows)[3]);
        Assert.Empty(Run("0xDEF", "get_access_grants_granted", KwilValue.OfUuid(null), KwilValue.OfWholeNumber(2), KwilValue.OfWholeNumber(20)).Rows);
        Assert.Contains("at least 1", Refusal("0xDEF", "get_access_grants_granted", KwilValue.OfUuid(null), KwilValue.OfWholeNumber(0), KwilValue.OfWholeNumber(20)).Message,
            StringComparison.Ordinal);
        Assert.Equal(1L, Run("0xdef", "get_access_grants_granted_count", KwilValue.OfUuid(User)).Rows[0][0]);
        Assert.Equal(0L, Run("0xdef", "get_access_grants_granted_count", KwilValue.OfUuid(Guid.NewGuid())).Rows[0][0]);

        var shared = Assert.Single(Run("0xdef", "get_credential_shared", KwilValue.OfUuid(copy)).Rows);
        Assert.Equal("Y29weQ==", shared[3]);
        Assert.Equal("{\"id\":\"vc-2\"}", shared[2]);
        Assert.Equal(copy, Assert.Single(Run("0xdef", "get_sibling_credential_id", KwilValue.OfText("hash")).Rows)[0]);

        var stranger = Run("0x0000000000000000000000000000000000000009", "get_credential_shared", KwilValue.OfUuid(copy));
        var missing = Run("0x0000000000000000000000000000000000000009", "get_credential_shared", KwilValue.OfUuid(Guid.NewGuid()));
        Assert.Equal(missing.Columns, stranger.Columns);
        Assert.Empty(stranger.Rows);
        Assert.Empty(missing.Rows);

        Assert.Equal(ActionError.NotFound, Refusal("0x0000000000000000000000000000000000000009", "rescind_shared_credential", KwilValue.OfUuid(copy)).Error);
        Assert.Equal(ActionError.NotFound, Refusal("0xdef", "rescind_shared_credential", KwilValue.OfUuid(original)).Error);
        Run("0xdef", "rescind_shared_credential", KwilValue.OfUuid(copy));
        Assert.Empty(Run("0xdef", "get_credential_shared", KwilValue.OfUuid(copy)).Rows);
        Assert.Single(Run(UserAddress, "get_credentials").Rows);
    }

    [Fact]
    public void Access_grant_ids_are_rfc_4122_version_5_uuids()
    {
        // Values from Python's uuid.uuid5, an independent implementation.
        Assert.Equal(Guid.Parse("886313e1-3b8a-5372-9b90-0c9aee199e5d"), CredentialProofs.UuidV5(Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org"));
        Assert.Equal(Guid.Parse("d7b6eac0-b71e-5a3a-ba08-650555d41e80"),
            CredentialProofs.UuidV5(Guid.Parse("31276fd4-105f-4ff7-9f64-644942c14b79"), "0xdef-22222222-2222-4222-8222-222222222222-1700000000"));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _state?.Dispose();
        }

        base.Dispose(disposing);
    }

    private static ActionContext Context(string caller) =>
        new(caller, [], "test", "tx", 10, 1_700_000_000, IsOwner: caller == OwnerKey);

    private static KwilValue[] Credential(Guid id, NSec.Cryptography.Key issuer, string issuerHex, string notes, string content, bool forge = false)
    {
        var (notesSignature, broader) = Sign(issuer, notes, content, forge);
        return [KwilValue.OfUuid(id), KwilValue.OfText(issuerHex), KwilValue.OfText("encryptor"), KwilValue.OfText(content), KwilValue.OfText(notes),
            KwilValue.OfText(notesSignature), KwilValue.OfText(broader)];
    }

    private static KwilValue[] Share(Guid id, Guid original, NSec.Cryptography.Key issuer, string issuerHex, string notes, string grantee, long lockedUntil)
    {
        var (notesSignature, broader) = Sign(issuer, notes, "Y29weQ==", forge: false);
        return [KwilValue.OfUuid(id), KwilValue.OfUuid(original), KwilValue.OfText(notes), KwilValue.OfText(notesSignature), KwilValue.OfText(broader),
            KwilValue.OfText("Y29weQ=="), KwilValue.OfText("hash"), KwilValue.OfText("encryptor"), KwilValue.OfText(issuerHex), KwilValue.OfText(grantee),
            KwilValue.OfWholeNumber(lockedUntil)];
    }

    /// <summary>As the SDK signs: notes signature over the notes, broader signature over it and the decoded content.</summary>
    private static (string Notes, string Broader) Sign(NSec.Cryptography.Key issuer, string notes, string content, bool forge)
    {
        var algorithm = NSec.Cryptography.SignatureAlgorithm.Ed25519;
        var notesSignature = algorithm.Sign(issuer, System.Text.Encoding.UTF8.GetBytes(notes));
        var broader = algorithm.Sign(issuer, [.. notesSignature, .. Convert.FromBase64String(content)]);
        if (forge)
        {
            broader[0] ^= 1;
        }

        return (Convert.ToBase64String(notesSignature), Convert.ToBase64String(broader));
    }

    private static KwilValue[] Wallet(Guid id, string address, string message, string signature) =>
        [KwilValue.OfUuid(id), KwilValue.OfText(address), KwilValue.OfText(""), KwilValue.OfText("EVM"), KwilValue.OfText(message), KwilValue.OfText(signature)];

    private static KwilValue[] UserArguments(string store) => [KwilValue.OfUuid(User), KwilValue.OfText("recipient-key"), KwilValue.OfText(store)];

    private ActionOutcome Run(string caller, string action, params KwilValue[] arguments) =>
        IdosActions.Execute(State.Connection, Context(caller), "main", action, arguments, fromView: false);

    private ActionFailedException Refusal(string caller, string action, params KwilValue[] arguments) =>
        Assert.Throws<ActionFailedException>(() => Run(caller, action, arguments));

    private void AddUserWithWallet()
    {
        Run(OwnerKey, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer"));
        Run(OwnerKey, "add_delegate_as_owner", KwilValue.OfText(IssuerKey), KwilValue.OfUuid(Inserter));
        Run(IssuerKey, "add_user_as_inserter", UserArguments("user"));
        State.Connection.Insert(new WalletRow { Id = Guid.NewGuid(), UserId = User, Address = UserAddress.ToLowerInvariant(), WalletType = "EVM" });
    }
}

[Trait("Category", "Unit")]
public sealed class SqliteIdosActionTests : IdosActionTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresIdosActionTests : IdosActionTests<PostgresTestSchema>;
