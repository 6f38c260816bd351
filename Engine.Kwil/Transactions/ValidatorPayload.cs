namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>
/// The governance transactions, under kwild's payload type names. The signer is always the validator who acts (the
/// candidate for a join, the leaving validator for a leave), with an `ed25519` signature by its validator key: the
/// key that signs consensus messages is the one that asks, approves and leaves.
/// </summary>
public abstract record ValidatorPayload
{
    public const string JoinType = "validator_join";
    public const string ApproveType = "validator_approve";
    public const string RemoveType = "validator_remove";
    public const string LeaveType = "validator_leave";
    public const int KeySize = 32;
    public const int PinSize = 32;

    /// <summary>Host and port of the candidate's consensus endpoint; DNS names are at most 253 characters.</summary>
    public const int MaxAddressBytes = 300;

    private const int Version = 1;

    public static bool IsGovernance(string payloadType) =>
        payloadType is JoinType or ApproveType or RemoveType or LeaveType;

    public abstract string PayloadType { get; }

    /// <summary>Decodes a payload of one of the four types; every field is bounded and the payload must end there.</summary>
    /// <exception cref="KwilFormatException">The bytes are not a payload of <paramref name="payloadType"/>.</exception>
    public static ValidatorPayload Decode(string payloadType, ReadOnlySpan<byte> payload)
    {
        var reader = new KwilReader(payload);
        var version = reader.ReadU16("payload version");
        if (version != Version)
        {
            throw new KwilFormatException($"{payloadType} payload version {version} is not supported (supported: {Version})");
        }

        ValidatorPayload decoded = payloadType switch
        {
            JoinType => new ValidatorJoin(
                Fixed(ref reader, PinSize, "TLS pin"),
                reader.ReadCompactString(MaxAddressBytes, "address")),
            ApproveType => new ValidatorApprove(Fixed(ref reader, KeySize, "candidate key")),
            RemoveType => new ValidatorRemove(Fixed(ref reader, KeySize, "target key"), Flag(ref reader)),
            LeaveType => new ValidatorLeave(Flag(ref reader)),
            _ => throw new KwilFormatException($"payload type '{payloadType}' is not a validator governance type"),
        };
        reader.EnsureEnd(payloadType + " payload");
        return decoded;
    }

    public byte[] Encode()
    {
        var writer = new KwilWriter();
        writer.WriteU16(Version);
        switch (this)
        {
            case ValidatorJoin join:
                writer.WriteCompactBytes(join.TlsPin);
                writer.WriteCompactString(join.Address);
                break;
            case ValidatorApprove approve:
                writer.WriteCompactBytes(approve.Candidate);
                break;
            case ValidatorRemove remove:
                writer.WriteCompactBytes(remove.Target);
                writer.WriteRaw([remove.AllowFewerThanFour ? (byte)1 : (byte)0]);
                break;
            case ValidatorLeave leave:
                writer.WriteRaw([leave.AllowFewerThanFour ? (byte)1 : (byte)0]);
                break;
        }

        return writer.ToArray();
    }

    private static byte[] Fixed(ref KwilReader reader, int size, string what)
    {
        var bytes = reader.ReadCompactBytes(size, what) ?? throw new KwilFormatException($"{what} is missing");
        return bytes.Length == size ? bytes : throw new KwilFormatException($"{what} is {size} bytes, got {bytes.Length}");
    }

    private static bool Flag(ref KwilReader reader) => reader.ReadByte("flag") switch
    {
        0 => false,
        1 => true,
        var other => throw new KwilFormatException($"a flag is 0 or 1, got {other}"),
    };
}

/// <summary>The signer asks to become a validator, naming the TLS key it will connect with and where it listens.</summary>
public sealed record ValidatorJoin(byte[] TlsPin, string Address) : ValidatorPayload
{
    public override string PayloadType => JoinType;
}

/// <summary>A validator approves the open join request of <see cref="Candidate"/>.</summary>
public sealed record ValidatorApprove(byte[] Candidate) : ValidatorPayload
{
    public override string PayloadType => ApproveType;
}

/// <summary>
/// A validator votes to remove <see cref="Target"/>. <see cref="AllowFewerThanFour"/> is the operators' explicit
/// consent to a set below four, where one fault already halts the network.
/// </summary>
public sealed record ValidatorRemove(byte[] Target, bool AllowFewerThanFour = false) : ValidatorPayload
{
    public override string PayloadType => RemoveType;
}

/// <summary>The signer leaves the validator set.</summary>
public sealed record ValidatorLeave(bool AllowFewerThanFour = false) : ValidatorPayload
{
    public override string PayloadType => LeaveType;
}
