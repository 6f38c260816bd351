using System.Globalization;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>An account's last used nonce as the state holds it, 0 for an account it does not hold yet.</summary>
public static class AccountNonces
{
    private const string SelectNonce = "SELECT nonce FROM accounts WHERE identifier = @p0 AND key_type = @p1";

    public static long Last(PreparedStatements statements, byte[] identifier, string keyType)
    {
        ArgumentNullException.ThrowIfNull(statements);
        return statements.Scalar(SelectNonce, identifier, keyType) is { } value ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
    }
}
