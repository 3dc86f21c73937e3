@hangup
Feature: Hang up and leave
  A member leaves the call (MirrorFly endCall, CometChat endCall, Stringee hangup, Stream leave).
  A 1:1 call ends for both sides (code 200). In a group call the leaver is detached and the others
  go on (Stream: leave() does not stop the flow for others) until fewer than two remain. A device
  that loses its connection leaves the same way, with reason "disconnected" (480).

  Scenario Outline: Either side of a connected 1:1 call hangs up: <who>
    Given users alice and bob
    And alice calls bob
    And bob accepts
    And 5 seconds pass
    When <who> hangs up
    Then alice and bob see "[5s] call-1: ended, hung up by <who>"
    And the call ended: hung up by <who>
    And the end code of the call is 200
    When <who> hangs up
    Then it fails with 410

    Examples:
      | who   |
      | alice |
      | bob   |

  Scenario: Hanging up while the call is still connecting ends it for both
    Given devices do not start the media session automatically
    And users alice and bob
    And alice calls bob
    And bob accepts
    When alice hangs up
    Then alice and bob see "call-1: ended, hung up by alice"

  Scenario: A member leaving a group call is detached and the others go on
    Given users alice, bob, carol and dave
    And a group team of alice, bob and carol
    And alice places a video call in team to bob and carol
    And bob accepts
    And carol accepts
    When bob hangs up
    Then bob sees "call-1: detached, left"
    And alice and carol see "call-1: bob left"
    And the call is connected
    And bob's state in the call is left
    When alice sends a message "still here"
    Then carol sees "call-1: message (10 B) from alice"
    And bob sees nothing more
    When bob hangs up
    Then it fails with 422
    When dave calls bob
    Then bob sees "call-2: incoming Audio call from dave"
    And dave sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """

  Scenario: A group call ending tells the devices still ringing
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    When bob hangs up
    Then alice, bob and carol see "call-1: ended, hung up by bob"
    And carol's state in the call is ringing

  Scenario: A session device losing its connection ends a 1:1 call
    Given users alice
    And user bob with devices phone and tablet
    And alice calls bob
    And bob/phone accepts
    When bob/phone goes offline
    Then alice sees "call-1: ended, bob disconnected"
    And bob/phone and bob/tablet see nothing more
    And the end code of the call is 480
    When bob/phone comes back online
    Then nobody sees anything more

  Scenario: A group member losing its connection leaves and the others go on
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    When bob goes offline
    Then alice and carol see "call-1: bob disconnected"
    And the call is connected
    When bob comes back online
    Then nobody sees anything more
    When bob joins
    Then alice and carol see "call-1: bob joined"

  Scenario: Somebody who is not a member cannot hang up the call
    Given users alice, bob and carol
    And alice calls bob
    When carol hangs up call-1
    Then it fails with 403 saying "not a member of the call"
    And the call is ringing
