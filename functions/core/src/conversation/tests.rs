//! The state machine against its table, and the README against both.

use super::*;

fn conv() -> Conversation {
    Conversation::new(
        ConversationId::generate(),
        CustomerId::generate(),
        Lang::Ko,
        Channel::Web,
        Timestamp::UNIX_EPOCH,
    )
}
fn agent(id: &str, supervisor: bool) -> Agent {
    Agent {
        id: AgentId::parse(id).unwrap(),
        supervisor,
    }
}
/// A conversation brought to `status` by legal moves.
fn at(status: Status) -> Conversation {
    let mut c = conv();
    if status != Status::Bot {
        c.queue(
            HandoffReason::CustomerAsked,
            "s".into(),
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
    }
    if matches!(status, Status::Assigned | Status::Resolved) {
        c.claim(&agent("a", false).id).unwrap();
    }
    if status == Status::Resolved {
        c.resolve(&agent("a", false)).unwrap();
    }
    assert_eq!(c.status, status);
    c
}

/// Applies `action` as the owner "a" (a supervisor for dismiss): the status after, or the error.
fn apply(status: Status, action: Action, to_agent: bool) -> Result<Status, TransitionError> {
    let mut c = at(status);
    let a = agent("a", true);
    match action {
        Action::Queue => c
            .queue(HandoffReason::Threat, "s".into(), Timestamp::UNIX_EPOCH)
            .map(|_| ()),
        Action::Claim => c.claim(&agent("b", false).id).map(|_| ()),
        Action::Release => c.release(&a),
        Action::Resolve => c.resolve(&a),
        Action::Withdraw => c.withdraw().map(|_| ()),
        Action::Transfer => c.transfer(&a, to_agent.then(|| agent("b", false).id)),
        Action::Dismiss => c.dismiss(),
    }?;
    Ok(c.status)
}

#[test]
fn every_move_is_in_the_table_and_every_row_is_a_move() {
    let actions = [
        Action::Queue,
        Action::Claim,
        Action::Release,
        Action::Resolve,
        Action::Withdraw,
        Action::Transfer,
        Action::Dismiss,
    ];
    for from in Status::ALL {
        for action in actions {
            for to_agent in [true, false] {
                match apply(from, action, to_agent) {
                    Ok(to) if to == from && matches!(action, Action::Claim | Action::Withdraw) => {
                        // claim of one's own, withdraw while with the bot: no move.
                    }
                    Ok(to) => assert!(
                        TRANSITIONS
                            .iter()
                            .any(|(f, a, t, _)| (*f, *a, *t) == (from, action, to)),
                        "{from} --{}--> {to} is not in the table",
                        action.name()
                    ),
                    Err(e) => assert!(
                        !TRANSITIONS
                            .iter()
                            .any(|(f, a, t, _)| (*f, *a) == (from, action)
                                && (action != Action::Transfer
                                    || (*t == Status::Assigned) == to_agent)),
                        "{from} --{}--> refused: {e}",
                        action.name()
                    ),
                }
            }
        }
    }
}

#[test]
fn illegal_moves_name_the_state_and_the_action() {
    let mut c = at(Status::Bot);
    assert_eq!(
        c.claim(&agent("a", false).id).unwrap_err().to_string(),
        "cannot claim a conversation that is bot"
    );
    let mut c = at(Status::Queued);
    assert_eq!(
        c.release(&agent("a", false)).unwrap_err().to_string(),
        "cannot hand back a conversation that is queued"
    );
    let mut c = at(Status::Assigned);
    assert_eq!(
        c.claim(&agent("b", false).id),
        Err(TransitionError::AlreadyClaimed {
            by: agent("a", false).id
        })
    );
    assert!(matches!(
        c.resolve(&agent("b", false)),
        Err(TransitionError::NotOwner { .. })
    ));
    assert_eq!(c.claim(&agent("a", false).id), Ok(false));
    assert!(c.resolve(&agent("b", true)).is_ok(), "a supervisor may");
    assert!(at(Status::Resolved).dismiss().is_err());
}

#[test]
fn queue_numbers_each_handoff() {
    let mut c = at(Status::Queued);
    c.claim(&agent("a", false).id).unwrap();
    c.release(&agent("a", false)).unwrap();
    let h = c
        .queue(HandoffReason::Threat, "again".into(), Timestamp::UNIX_EPOCH)
        .unwrap();
    assert_eq!((h.number, h.priority), (2, crate::model::Priority::High));
    assert_eq!(c.assigned_to, None);
}

#[test]
fn readme_state_table_is_this_table() {
    let readme = include_str!("../../../../README.md");
    let begin =
        "<!-- state-machine:begin (generated from functions/core/src/conversation.rs) -->\n";
    let end = "<!-- state-machine:end -->";
    let start = readme
        .find(begin)
        .expect("README has the state-machine markers")
        + begin.len();
    let stop = readme[start..].find(end).expect("end marker") + start;
    assert_eq!(
        &readme[start..stop],
        state_table(),
        "README's state table differs from TRANSITIONS; paste state_table()'s output"
    );
}
