namespace IdOS.Akka.Engine.Kwil.Results;

/// <summary>
/// An action refused: the transaction fails with this code and message and the block goes on. Codes are stable:
/// clients and tests match on them.
/// </summary>
public sealed class ActionFailedException(ActionError error, string message) : Exception(message)
{
    public ActionFailedException()
        : this(ActionError.Internal, "action failed")
    {
    }

    public ActionFailedException(string message)
        : this(ActionError.Internal, message)
    {
    }

    public ActionFailedException(string message, Exception inner)
        : this(ActionError.Internal, message + ": " + inner.Message)
    {
    }

    public ActionError Error { get; } = error;
}

public enum ActionError
{
    /// <summary>Arguments of the wrong number or type.</summary>
    BadArguments = 10,

    /// <summary>The caller may not run this action (not the owner, not a delegate, not the holder of the row).</summary>
    Unauthorized = 11,

    /// <summary>The row the action needs does not exist (or, for reads, is not visible to the caller).</summary>
    NotFound = 12,

    /// <summary>A uniqueness or state rule of the schema (duplicate id, wallet in use, grant still locked).</summary>
    Conflict = 13,

    /// <summary>An action name this schema does not have.</summary>
    UnknownAction = 14,

    /// <summary>A signature or proof the action checks does not verify.</summary>
    InvalidProof = 15,

    /// <summary>Part of the schema this network does not provide (the token bridge, some wallet types).</summary>
    NotSupported = 16,

    /// <summary>A bug: reported as a failed transaction rather than stopping the block.</summary>
    Internal = 99,
}
