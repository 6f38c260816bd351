using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>The owner's actions: inserters and their delegates.</summary>
internal static class AdminActions
{
    public static void Register(ActionTable actions)
    {
        actions.Add("add_inserter_as_owner", (s, a) =>
        {
            var id = a.Uuid(0);
            var name = a.RequiredText(1);
            if (s.Db.GetTable<InserterRow>().Any(i => i.Id == id || i.Name == name))
            {
                throw new ActionFailedException(ActionError.Conflict, $"an inserter with id {id} or name '{name}' already exists");
            }

            s.Statements.Insert(new InserterRow { Id = id, Name = name });
            return ActionOutcome.None;
        });
        actions.Add("delete_inserter_as_owner", (s, a) =>
        {
            var id = a.Uuid(0);
            s.Db.GetTable<InserterRow>().Where(i => i.Id == id).Delete();
            return ActionOutcome.None;
        });
        actions.Add("add_delegate_as_owner", (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            var inserter = a.Uuid(1);
            if (!s.Db.GetTable<InserterRow>().Any(i => i.Id == inserter))
            {
                throw new ActionFailedException(ActionError.NotFound, $"inserter {inserter} does not exist");
            }

            s.InsertNew(new DelegateRow { Address = address, InserterId = inserter }, $"delegate {address}");
            return ActionOutcome.None;
        });
        actions.Add("delete_delegate_as_owner", (s, a) =>
        {
            var address = a.RequiredText(0).ToLowerInvariant();
            s.Db.GetTable<DelegateRow>().Where(d => d.Address == address).Delete();
            return ActionOutcome.None;
        });
    }
}
