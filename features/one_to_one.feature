@one-to-one
Feature: 1:1 audio and video calls
  A caller places a call to one user. Every device of the callee rings; the SDK acknowledges
  ringing back to the caller; once the callee accepts, both sides start their media session and
  the call is connected (MirrorFly makeVoiceCall / makeVideoCall, CometChat initiateCall,
  Stringee makeCall, Stream getOrCreate with ring).

  Scenario Outline: A 1:1 <type> call is answered and connects
    Given users alice and bob
    When alice places a <type> call to bob
    Then bob sees "call-1: incoming <Type> call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And the call is connected
    And bob's state in the call is joined
    And alice's state in the call is joined

    Examples:
      | type  | Type  |
      | audio | Audio |
      | video | Video |

  Scenario: The incoming-call payload of a 1:1 video call carries every field
    Given users alice and bob
    And 2 seconds pass
    When alice places a video call to bob
    Then the invitation bob received has:
      | event          | incoming |
      | info.call      | 1        |
      | info.call_type | video    |
      | info.group     | none     |
      | info.caller    | alice    |
      | info.invitees  | bob      |
      | info.status    | calling  |
      | info.created_ms | 2000    |
      | info.custom_data | none   |
      | info.transferred_by | none |
    And bob sees "[2s] call-1: incoming Video call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: Custom data and X- headers travel with the invitation
    Given users alice and bob
    When alice places a call with:
      | to          | bob          |
      | type        | audio        |
      | custom data | order 42     |
      | header      | X-Ticket: 77 |
    Then the invitation bob received has:
      | info.custom_data | order 42     |
      | info.headers     | X-Ticket, 77 |
    And bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: The callee hangs up a connected call and it ends for both
    Given users alice and bob
    And alice calls bob
    And bob accepts
    And 20 seconds pass
    When bob hangs up
    Then alice sees "[20s] call-1: ended, hung up by bob"
    And bob sees "[20s] call-1: ended, hung up by bob"
    And the call ended: hung up by bob
    And the end code of the call is 200

  Scenario: Only the caller's placing device takes part in the call
    Given user alice with devices phone and laptop
    And users bob
    When alice/phone calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice/phone sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob accepts
    Then alice/phone sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And alice/laptop sees nothing
    When alice/laptop hangs up
    Then it fails with 409
    When alice/phone hangs up
    Then alice/phone and bob see "call-1: ended, hung up by alice"
    And alice/laptop sees nothing

  Scenario: Call ids count from one in placing order, and users are free after a call
    Given users alice, bob and carol
    And alice calls bob
    And alice cancels
    When carol calls bob
    Then bob sees "call-2: incoming Audio call from carol"
    And carol sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """
    When bob declines call-2
    Then bob and carol see "call-2: ended, declined by bob (603)"
    When bob places an audio call to alice
    Then alice sees "call-3: incoming Audio call from bob"
    And bob sees:
      """
      call-3: alice ringing
      call-3: status ringing
      """

  Scenario: A video call can be answered on a device that joined the call late
    Given users alice
    And user bob with devices phone and tablet
    And bob/tablet is offline
    When alice places a video call to bob
    Then bob/phone sees "call-1: incoming Video call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob/tablet comes back online
    Then bob/tablet sees "call-1: incoming Video call from alice"
    When bob/tablet accepts
    Then bob/phone sees "call-1: detached, answered on another device"
    And bob/tablet sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
