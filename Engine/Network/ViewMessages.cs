using System.Buffers.Binary;
using IdOS.Akka.Engine.Consensus.Encoding;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// One VIEW action to run: the Kwil `ActionCall` payload as the client sent it, and the identity it runs as — empty
/// when the caller is anonymous. The RPC layer sets an identity only after the client proved control of it.
/// </summary>
public sealed record ViewCall(string Caller, byte[] Signer, string Authenticator, byte[] Payload);

/// <summary>
/// To a node's `/user/query`: the RPC layer's coalesced reads — views and accounts' next nonces — answered from one
/// state version at or after <paramref name="AtLeastHeight"/>.
/// </summary>
public sealed record ReadBatchQuery(IReadOnlyList<ViewCall> Calls, IReadOnlyList<AccountRef> Accounts, long AtLeastHeight) : NodeMessage;

/// <summary>An account whose next nonce to read: the signer's identifier and its key type.</summary>
public sealed record AccountRef(byte[] Identifier, string KeyType);

/// <summary>A view's table, or its refusal (code 100 + action error, or 1 for a payload that does not decode).</summary>
public sealed record ViewAnswer(int Code, string Error, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows);

/// <summary>The answers and next nonces in order, all read at <paramref name="Height"/>; none when the node was behind the height asked.</summary>
public sealed record ReadBatchAnswer(long Height, bool Behind, IReadOnlyList<ViewAnswer> Answers, IReadOnlyList<long> NextNonces) : NodeMessage;

/// <summary>
/// The values a view returns, tagged so that the RPC layer renders them as kwild does: null, UUID, text, int8, bool,
/// bytes. Nothing else crosses the wire.
/// </summary>
internal static class ViewValueCodec
{
    public const int MaxCalls = 256;
    public const int MaxRows = 100_000;
    public const int MaxColumns = 64;
    public const int MaxTextBytes = 1 << 20;

    public static void Write(CanonicalWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteU8(0);
                break;
            case Guid guid:
                writer.WriteU8(1);
                Span<byte> bytes = stackalloc byte[16];
                guid.TryWriteBytes(bytes, bigEndian: true, out _);
                writer.WriteFixed(bytes);
                break;
            case string text:
                writer.WriteU8(2);
                writer.WriteBytes(System.Text.Encoding.UTF8.GetBytes(text));
                break;
            case long or int:
                writer.WriteU8(3);
                Span<byte> number = stackalloc byte[8];
                BinaryPrimitives.WriteInt64BigEndian(number, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteFixed(number);
                break;
            case bool flag:
                writer.WriteU8(4);
                writer.WriteBool(flag);
                break;
            case byte[] blob:
                writer.WriteU8(5);
                writer.WriteBytes(blob);
                break;
            default:
                throw new ArgumentException($"a view cannot return a {value.GetType().Name}", nameof(value));
        }
    }

    public static object? Read(ref CanonicalReader reader) => reader.ReadU8() switch
    {
        0 => null,
        1 => new Guid(reader.ReadFixed(16), bigEndian: true),
        2 => System.Text.Encoding.UTF8.GetString(reader.ReadBytes(MaxTextBytes, "text value")),
        3 => BinaryPrimitives.ReadInt64BigEndian(reader.ReadFixed(8)),
        4 => reader.ReadBool(),
        5 => reader.ReadBytes(MaxTextBytes, "bytes value"),
        var tag => throw new MalformedMessageException($"unknown view value tag {tag}"),
    };
}
