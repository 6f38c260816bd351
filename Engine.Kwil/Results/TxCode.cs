namespace IdOS.Akka.Engine.Kwil.Results;

/// <summary>Kwil's transaction result codes plus ours for refused actions (100 + <see cref="ActionError"/>).</summary>
public static class TxCode
{
    public const int Ok = 0;
    public const int Encoding = 1;
    public const int InvalidTransactionType = 2;
    public const int InvalidSignature = 3;
    public const int InvalidNonce = 4;
    public const int WrongChain = 5;

    // Governance refusals (validator_join, _approve, _remove, _leave); the log says which rule and why.

    /// <summary>The signer may not do this: not a validator, or not signing with its ed25519 validator key.</summary>
    public const int NotAValidator = 10;

    /// <summary>There is no open request for that validator, or it lapsed.</summary>
    public const int NoOpenRequest = 11;

    /// <summary>Already so: a member asks to join, a request is already open, the signer already approved.</summary>
    public const int AlreadyDone = 12;

    /// <summary>The set would fall below four validators without the operators' explicit consent.</summary>
    public const int SetTooSmall = 13;

    /// <summary>The new set would have fewer live validators than its quorum, so the network would halt.</summary>
    public const int TooFewLive = 14;

    /// <summary>The request itself is wrong: an address nobody can dial, a validator removing itself.</summary>
    public const int InvalidGovernance = 15;

    public static int ForAction(ActionError error) => 100 + (int)error;

    /// <summary>The code's meaning in a word or two, for people reading results: "ok", "invalid_nonce", "not_found".</summary>
    public static string Name(int code) => code switch
    {
        Ok => "ok",
        Encoding => "encoding",
        InvalidTransactionType => "invalid_transaction_type",
        InvalidSignature => "invalid_signature",
        InvalidNonce => "invalid_nonce",
        WrongChain => "wrong_chain",
        NotAValidator => "not_a_validator",
        NoOpenRequest => "no_open_request",
        AlreadyDone => "already_done",
        SetTooSmall => "set_too_small",
        TooFewLive => "too_few_live",
        InvalidGovernance => "invalid_governance",
        > 100 when Enum.IsDefined((ActionError)(code - 100)) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(((ActionError)(code - 100)).ToString()),
        _ => "failed",
    };
}
