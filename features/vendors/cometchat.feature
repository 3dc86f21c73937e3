@vendor @cometchat
Feature: CometChat rules (seed 001), under the cometchat profile
  One scenario per rule of CometChat's default call flow (docs/model.md §5, rules 11-19 and 78). CometChat has no ringing acknowledgement, so the caller is
  not told that a device rings.

  Background:
    Given the dialect is "cometchat"
    And devices do not start the media session automatically
    And users alice and bob

  Scenario: cometchat.reject-rejected-is-decline — rejectCall(REJECTED) declines
    Given alice calls bob
    When bob declines
    Then alice and bob see "call-1: ended, declined by bob (603)"
    And the end code of the call is 603

  Scenario: cometchat.reject-cancelled-is-cancel — rejectCall(CANCELLED) cancels
    Given alice calls bob
    When alice cancels
    Then alice and bob see "call-1: ended, cancelled by alice"
    And the end code of the call is 487

  Scenario: cometchat.start-session-both-sides — connected only once both started the session
    Given alice calls bob
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      """
    And bob sees "call-1: status connecting"
    When bob starts the media session
    Then the call is connecting
    And nobody sees anything
    When alice starts the media session
    Then alice and bob see "call-1: status connected"

  Scenario: cometchat.no-ringing — the caller is not told that the callee's device rings
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees nothing
    And the call is calling

  Scenario: cometchat.end-call-message — endCall makes the other side receive the end
    Given alice calls bob
    And bob accepts
    When bob hangs up
    Then alice and bob see "call-1: ended, hung up by bob"

  Scenario: cometchat.listener-by-id — a removed listener gets nothing while another still does
    Given bob adds the call listener "incoming-screen"
    And bob adds the call listener "call-log"
    When bob removes the call listener "incoming-screen"
    And alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And bob's call listener "call-log" got "call-1: incoming Audio call from alice"
    And bob's call listener "incoming-screen" got nothing
    When alice cancels
    Then alice and bob see "call-1: ended, cancelled by alice"
    And bob's call listener "call-log" got "call-1: ended, cancelled by alice"
    And bob's call listener "incoming-screen" got nothing

  Scenario: cometchat.listener-by-id — an id is registered once; a removed one may be added again
    Given bob adds the call listener "call-log"
    When bob adds the call listener "call-log"
    Then it fails with 400 saying "already registered"
    When bob removes the call listener "call-log"
    And bob adds the call listener "call-log"
    And alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And bob's call listener "call-log" got "call-1: incoming Audio call from alice"

  Scenario Outline: cometchat.initiate-user-or-group — initiateCall to a <receiver>, <type>
    Given a group team of alice and bob
    When <placing>
    Then bob sees "call-1: incoming <event>"
    And alice sees nothing

    Examples:
      | receiver | type  | placing                                        | event                                   |
      | user     | audio | alice places an audio call to bob              | Audio call from alice                   |
      | user     | video | alice places a video call to bob               | Video call from alice                   |
      | group    | audio | alice places an audio call in team to bob      | group Audio call in team from alice     |
      | group    | video | alice places a video call in team to bob       | group Video call in team from alice     |

  Scenario: cometchat.session-id — each initiated call has its own session id
    Given users carol and dave
    When alice calls bob
    Then the reply has:
      | call | 1 |
    And bob sees "call-1: incoming Audio call from alice"
    When carol calls dave
    Then the reply has:
      | call | 2 |
    And dave sees "call-2: incoming Audio call from carol"

  Scenario: cometchat.caller-may-cancel — the caller cancels while unanswered, not after the accept
    Given alice calls bob
    And bob accepts
    When alice cancels
    Then it fails with 422
    And nobody sees anything more

  Scenario: cometchat.listener-callbacks — a call listener gets each callback of a call's life
    Given alice adds the call listener "calls"
    And bob adds the call listener "calls"
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And bob's call listener "calls" got "call-1: incoming Audio call from alice"
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      """
    And bob sees "call-1: status connecting"
    And alice's call listener "calls" got:
      """
      call-1: bob joined
      call-1: status connecting
      """
    When alice starts the media session
    And bob starts the media session
    Then alice and bob see "call-1: status connected"
    When bob hangs up
    Then alice and bob see "call-1: ended, hung up by bob"
    And alice's call listener "calls" got:
      """
      call-1: status connected
      call-1: ended, hung up by bob
      """

  Scenario: cometchat.listener-callbacks — outgoing rejected reaches the caller's listener
    Given alice adds the call listener "calls"
    And alice calls bob
    When bob declines
    Then alice and bob see "call-1: ended, declined by bob (603)"
    And alice's call listener "calls" got "call-1: ended, declined by bob (603)"

  Scenario: cometchat.listener-callbacks — incoming cancelled reaches the callee's listener
    Given bob adds the call listener "calls"
    And alice calls bob
    When alice cancels
    Then alice and bob see "call-1: ended, cancelled by alice"
    And bob's call listener "calls" got:
      """
      call-1: incoming Audio call from alice
      call-1: ended, cancelled by alice
      """
