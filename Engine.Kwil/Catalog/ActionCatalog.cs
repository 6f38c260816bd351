namespace IdOS.Akka.Engine.Kwil.Catalog;

/// <summary>An action of the idOS schema as clients see it: its parameters, whether it only reads, whether only the owner may call it.</summary>
public sealed record ActionSignature(string Name, IReadOnlyList<ActionParameter> Parameters, bool IsView, bool OwnerOnly);

/// <summary>
/// The actions of idos-network/idos-schema's schema.sql that this network serves, by area. The RPC system answers
/// `info.actions` lookups from it without a database; the state machine implements every entry (and nothing else).
/// </summary>
public static class ActionCatalog
{
    public const string Namespace = "main";

    private static readonly Dictionary<string, ActionSignature> Signatures =
        Admin().Concat(Users()).Concat(Wallets()).Concat(Attributes()).Concat(Credentials()).Concat(Sharing()).Concat(Grants())
            .ToDictionary(a => a.Name, StringComparer.Ordinal);

    /// <summary>The schema's public gas and fee actions: all of them move tokens through the erc20 bridge extension, which this network does not run.</summary>
    public static IReadOnlySet<string> TokenBridgeActions { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "request_balance_withdrawal", "get_allowance", "check_balance", "get_wallet_with_balance", "request_withdrawal", "get_issuer_fee",
        "action_costing_gas", "action_costing_idos_token", "action_costing_fee",
    };

    public static IReadOnlyDictionary<string, ActionSignature> All => Signatures;

    private static ActionParameter P(string name, string type, bool nullable = false) => new(name, type, nullable);

    private static ActionSignature View(string name, ActionParameter[] parameters) => new(name, parameters, IsView: true, OwnerOnly: false);

    private static ActionSignature Write(string name, ActionParameter[] parameters) => new(name, parameters, IsView: false, OwnerOnly: false);

    private static ActionSignature Owner(string name, ActionParameter[] parameters) => new(name, parameters, IsView: false, OwnerOnly: true);

    private static IEnumerable<ActionSignature> Admin() =>
    [
        Owner("add_inserter_as_owner", [P("id", "uuid"), P("name", "text")]),
        Owner("delete_inserter_as_owner", [P("id", "uuid")]),
        Owner("add_delegate_as_owner", [P("address", "text"), P("inserter_id", "uuid")]),
        Owner("delete_delegate_as_owner", [P("address", "text")]),
    ];

    private static IEnumerable<ActionSignature> Users() =>
    [
        Write("add_user_as_inserter",
            [P("id", "uuid"), P("recipient_encryption_public_key", "text"), P("encryption_password_store", "text")]),
        Write("update_user_pub_key_as_inserter",
            [P("id", "uuid"), P("recipient_encryption_public_key", "text"), P("encryption_password_store", "text")]),
        View("get_user", []),
        View("get_user_as_inserter", [P("id", "uuid")]),
        View("has_profile", [P("address", "text")]),
    ];

    private static IEnumerable<ActionSignature> Wallets() =>
    [
        Write("add_wallet",
            [P("id", "uuid"), P("address", "text"), P("public_key", "text", true), P("wallet_type", "text"), P("message", "text", true),
             P("signature", "text", true)]),
        Write("upsert_wallet_as_inserter",
            [P("id", "uuid"), P("user_id", "uuid"), P("address", "text"), P("public_key", "text", true), P("wallet_type", "text"),
             P("message", "text", true), P("signature", "text", true)]),
        View("get_wallets", []),
        Write("remove_wallet", [P("id", "uuid")]),
    ];

    private static IEnumerable<ActionSignature> Attributes() =>
    [
        Write("add_attribute", [P("id", "uuid"), P("attribute_key", "text"), P("value", "text")]),
        Write("add_attribute_as_inserter", [P("id", "uuid"), P("user_id", "uuid"), P("attribute_key", "text"), P("value", "text")]),
        View("get_attributes", []),
        Write("edit_attribute", [P("id", "uuid"), P("attribute_key", "text"), P("value", "text")]),
        Write("remove_attribute", [P("id", "uuid")]),
        Write("share_attribute", [P("id", "uuid"), P("original_attribute_id", "uuid"), P("attribute_key", "text"), P("value", "text")]),
    ];

    private static IEnumerable<ActionSignature> Credentials() =>
    [
        Write("edit_credential",
            [P("id", "uuid"), P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text"),
             P("content", "text"), P("encryptor_public_key", "text"), P("issuer_auth_public_key", "text")]),
        Write("edit_public_notes_as_issuer", [P("public_notes_id", "text"), P("public_notes", "text")]),
        Write("upsert_credential_as_inserter",
            [P("id", "uuid"), P("user_id", "uuid"), P("issuer_auth_public_key", "text"), P("encryptor_public_key", "text"),
             P("content", "text"), P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text")]),
        View("credential_exist_as_inserter", [P("id", "uuid")]),
        View("get_credentials_shared_by_user", [P("user_id", "uuid"), P("original_issuer_auth_public_key", "text", true)]),
        Write("add_credential",
            [P("id", "uuid"), P("issuer_auth_public_key", "text"), P("encryptor_public_key", "text"), P("content", "text"),
             P("public_notes", "text"), P("public_notes_signature", "text"), P("broader_signature", "text")]),
        View("get_credentials", []),
        View("get_credential_owned", [P("id", "uuid")]),
        Write("remove_credential", [P("id", "uuid")]),
        Write("share_credential",
            [P("id", "uuid"), P("original_credential_id", "uuid"), P("public_notes", "text"), P("public_notes_signature", "text"),
             P("broader_signature", "text"), P("content", "text"), P("content_hash", "text"), P("encryptor_public_key", "text"),
             P("issuer_auth_public_key", "text"), P("grantee_wallet_identifier", "text"), P("locked_until", "int8")]),
        Write("revoke_access_grant", [P("id", "uuid")]),
        View("get_access_grants_owned", []),
        View("has_locked_access_grants", [P("id", "uuid")]),
    ];

    private static IEnumerable<ActionSignature> Sharing() =>
    [
        View("get_access_grants_granted", [P("user_id", "uuid", true), P("page", "int8"), P("size", "int8")]),
        View("get_access_grants_granted_count", [P("user_id", "uuid", true)]),
        View("get_access_grants_for_credential", [P("credential_id", "uuid")]),
        View("get_credential_shared", [P("id", "uuid")]),
        View("get_sibling_credential_id", [P("content_hash", "text")]),
        Write("rescind_shared_credential", [P("credential_id", "uuid")]),
    ];

    private static IEnumerable<ActionSignature> Grants() =>
    [
        View("dwg_message",
            [P("owner_wallet_identifier", "text"), P("grantee_wallet_identifier", "text"), P("issuer_public_key", "text"),
             P("id", "uuid"), P("access_grant_timelock", "text"), P("not_usable_before", "text"), P("not_usable_after", "text")]),
        View("dag_message",
            [P("owner", "text"), P("grantee", "text"), P("data_id", "uuid"), P("locked_until", "int8"), P("content_hash", "text")]),
        Write("create_credentials_by_dwg",
            [P("issuer_auth_public_key", "text"), P("original_encryptor_public_key", "text"), P("original_credential_id", "uuid"),
             P("original_content", "text"), P("original_public_notes", "text"), P("original_public_notes_signature", "text"),
             P("original_broader_signature", "text"), P("copy_encryptor_public_key", "text"), P("copy_credential_id", "uuid"),
             P("copy_content", "text"), P("copy_public_notes_signature", "text"), P("copy_broader_signature", "text"),
             P("content_hash", "text"), P("dwg_owner", "text"), P("dwg_grantee", "text"), P("dwg_issuer_public_key", "text"),
             P("dwg_id", "uuid"), P("dwg_access_grant_timelock", "text"), P("dwg_not_before", "text"), P("dwg_not_after", "text"),
             P("dwg_signature", "text")]),
        Write("create_ag_by_dag_for_copy",
            [P("dag_owner_wallet_identifier", "text"), P("dag_grantee_wallet_identifier", "text"), P("dag_data_id", "uuid"),
             P("dag_locked_until", "int8"), P("dag_content_hash", "text"), P("dag_signature", "text")]),
    ];
}
