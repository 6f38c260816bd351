using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Storage.Schema;

// The idOS tables of namespace `main` (idos-network/idos-schema schema.sql). NUMERIC(78,0)
// amounts are held as canonical decimal strings on every database, so that SQLite and PostgreSQL store the same
// value and arithmetic happens in one place, in code, with integers of any size.

[Table("users")]
public sealed class UserRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("recipient_encryption_public_key"), NotNull] public string RecipientEncryptionPublicKey { get; set; } = "";

    [Column("encryption_password_store"), NotNull] public string EncryptionPasswordStore { get; set; } = "";

    [Column("inserter"), NotNull] public string Inserter { get; set; } = "";

    [Column("gas_allowance"), NotNull] public string GasAllowance { get; set; } = "100000000000000000000";
}

[Table("wallets")]
public sealed class WalletRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("user_id"), NotNull] public Guid UserId { get; set; }

    [Column("address"), NotNull] public string Address { get; set; } = "";

    [Column("public_key"), Nullable] public string? PublicKey { get; set; }

    [Column("wallet_type"), NotNull] public string WalletType { get; set; } = "";

    [Column("message"), Nullable] public string? Message { get; set; }

    [Column("signature"), Nullable] public string? Signature { get; set; }

    [Column("inserter"), Nullable] public string? Inserter { get; set; }
}

[Table("credentials")]
public sealed class CredentialRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("user_id"), NotNull] public Guid UserId { get; set; }

    [Column("verifiable_credential_id"), Nullable] public string? VerifiableCredentialId { get; set; }

    [Column("public_notes"), NotNull] public string PublicNotes { get; set; } = "";

    [Column("content"), NotNull] public string Content { get; set; } = "";

    [Column("encryptor_public_key"), NotNull] public string EncryptorPublicKey { get; set; } = "";

    [Column("issuer_auth_public_key"), NotNull] public string IssuerAuthPublicKey { get; set; } = "";

    [Column("inserter"), Nullable] public string? Inserter { get; set; }

    [Column("issuer_fee"), NotNull] public string IssuerFee { get; set; } = "0";
}

[Table("shared_credentials")]
public sealed class SharedCredentialRow
{
    [Column("original_id"), PrimaryKey(0)] public Guid OriginalId { get; set; }

    [Column("copy_id"), PrimaryKey(1)] public Guid CopyId { get; set; }
}

[Table("user_attributes")]
public sealed class UserAttributeRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("user_id"), NotNull] public Guid UserId { get; set; }

    [Column("attribute_key"), NotNull] public string AttributeKey { get; set; } = "";

    [Column("value"), NotNull] public string Value { get; set; } = "";

    [Column("inserter"), Nullable] public string? Inserter { get; set; }
}

[Table("shared_user_attributes")]
public sealed class SharedUserAttributeRow
{
    [Column("original_id"), PrimaryKey(0)] public Guid OriginalId { get; set; }

    [Column("copy_id"), PrimaryKey(1)] public Guid CopyId { get; set; }
}

[Table("inserters")]
public sealed class InserterRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("name"), NotNull] public string Name { get; set; } = "";
}

[Table("delegates")]
public sealed class DelegateRow
{
    [Column("address"), PrimaryKey] public string Address { get; set; } = "";

    [Column("inserter_id"), NotNull] public Guid InserterId { get; set; }
}

[Table("consumed_write_grants")]
public sealed class ConsumedWriteGrantRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("owner_wallet_identifier"), NotNull] public string OwnerWalletIdentifier { get; set; } = "";

    [Column("grantee_wallet_identifier"), NotNull] public string GranteeWalletIdentifier { get; set; } = "";

    [Column("issuer_public_key"), NotNull] public string IssuerPublicKey { get; set; } = "";

    [Column("original_credential_id"), Nullable] public Guid? OriginalCredentialId { get; set; }

    [Column("copy_credential_id"), Nullable] public Guid? CopyCredentialId { get; set; }

    [Column("access_grant_timelock"), Nullable] public string? AccessGrantTimelock { get; set; }

    [Column("not_usable_before"), Nullable] public string? NotUsableBefore { get; set; }

    [Column("not_usable_after"), Nullable] public string? NotUsableAfter { get; set; }
}

[Table("access_grants")]
public sealed class AccessGrantRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }

    [Column("ag_owner_user_id"), NotNull] public Guid OwnerUserId { get; set; }

    [Column("ag_grantee_wallet_identifier"), NotNull] public string GranteeWalletIdentifier { get; set; } = "";

    [Column("data_id"), NotNull] public Guid DataId { get; set; }

    [Column("locked_until"), NotNull] public long LockedUntil { get; set; }

    [Column("content_hash"), Nullable] public string? ContentHash { get; set; }

    [Column("height"), NotNull] public long Height { get; set; }

    [Column("inserter_type"), NotNull] public string InserterType { get; set; } = "";

    [Column("inserter_id"), NotNull] public string InserterId { get; set; } = "";
}
