namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>
/// What a transaction does, named without what it carries: an explorer shows this and the size, never the arguments,
/// the sender or the signature, since idOS writes hold people's (encrypted) credentials and their wallets.
/// </summary>
public static class TransactionLabel
{
    /// <summary>Bytes that are not a Kwil transaction (another application's, or refused ones).</summary>
    public const string Opaque = "opaque";

    private const int MaxLength = 64;

    /// <summary>`namespace.action` (or the action alone) for an execution, the payload type for anything else.</summary>
    public static string Of(ReadOnlySpan<byte> transaction)
    {
        if (!KwilTransaction.TryFromBytes(transaction, out var decoded, out _))
        {
            return Opaque;
        }

        var body = decoded.Body;
        if (body.PayloadType != "execute" || body.Payload is null)
        {
            return Printable(body.PayloadType);
        }

        try
        {
            var execution = ActionPayload.DecodeExecution(body.Payload);
            var name = execution.Namespace.Length == 0 ? execution.Action : $"{execution.Namespace}.{execution.Action}";
            return Printable(name);
        }
        catch (KwilFormatException)
        {
            return "execute";
        }
    }

    /// <summary>Names come from the sender; only short ASCII identifiers are shown as they are.</summary>
    private static string Printable(string name) =>
        name.Length is > 0 and <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')
            ? name
            : Opaque;
}
