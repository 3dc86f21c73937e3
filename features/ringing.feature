@ringing
Feature: Ringing and the ring timeout
  Every connected device of every invitee rings. A device that rings acknowledges it (Stringee
  ringing(), done by the SDK), and the caller is told once per invitee. An invitation nobody
  answers ends after the ring timeout, 30 s unless configured, in virtual time.

  Scenario: Every device of every invitee rings
    Given users alice
    And user bob with devices phone and tablet
    And user carol with devices phone and tablet
    And a group team of alice, bob and carol
    When alice places a video call in team to bob and carol
    Then bob/phone, bob/tablet, carol/phone and carol/tablet see "call-1: incoming group Video call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """

  Scenario: The caller is told once per invitee, whichever device acknowledges
    Given devices do not acknowledge ringing automatically
    And users alice
    And user bob with devices phone and tablet
    When alice calls bob
    Then bob/phone and bob/tablet see "call-1: incoming Audio call from alice"
    And alice sees nothing
    And the call is calling
    When bob/tablet acknowledges ringing
    Then alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    And bob/phone and bob/tablet see nothing
    And the call is ringing
    And bob's state in the call is ringing
    When bob/phone acknowledges ringing
    Then nobody sees anything more

  Scenario: The caller cannot acknowledge ringing of its own call
    Given users alice and bob
    And alice calls bob
    When alice acknowledges ringing
    Then it fails with 422

  Scenario: An unanswered 1:1 call ends at the 30 s ring timeout
    Given users alice
    And user bob with devices phone and tablet
    And alice calls bob
    When 29999 ms pass
    Then nobody sees anything
    And the call is ringing
    When 1 ms passes
    Then alice, bob/phone and bob/tablet see "[30s] call-1: ended, no answer"
    And the call ended: no answer
    And the end code of the call is 408
    And bob's state in the call is missed
    When 10 minutes pass
    Then nobody sees anything more

  Scenario Outline: The ring timeout is configurable
    Given the ring timeout is <timeout>
    And users alice and bob
    And 1 second passes
    And alice calls bob
    When <before> pass
    Then nobody sees anything
    When 1 ms passes
    Then alice and bob see "[<ends at>] call-1: ended, no answer"

    Examples:
      | timeout    | before      | ends at |
      | 5 seconds  | 4999 ms     | 6s      |
      | 10 seconds | 9999 ms     | 11s     |
      | 2 minutes  | 119999 ms   | 121s    |

  Scenario: After the timeout the missed devices cannot answer any more
    Given users alice and bob
    And alice calls bob
    And 30 seconds pass
    When bob accepts
    Then it fails with 410
    And nobody sees anything more

  Scenario: In a group, a missed invitee is detached and the call goes on
    Given users alice and carol
    And user bob with devices phone and tablet
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And 1 second passes
    And carol accepts
    When 28999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then bob/phone and bob/tablet see "[30s] call-1: detached, missed"
    And alice and carol see "[30s] call-1: bob missed"
    And the call is connected
    And bob's state in the call is missed
    When bob/tablet accepts
    Then it fails with 422

  Scenario: A group call nobody answers ends with the last timeout
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    When 30 seconds pass
    Then alice sees:
      """
      [30s] call-1: bob missed
      [30s] call-1: ended, no answer
      """
    And bob sees "call-1: detached, missed"
    And carol sees "call-1: ended, no answer"
    And the call ended: no answer

  Scenario: A ringing device that goes offline stops ringing silently
    Given users alice
    And user bob with devices phone and tablet
    And alice calls bob
    When bob/tablet goes offline
    Then nobody sees anything
    When alice cancels
    Then alice and bob/phone see "call-1: ended, cancelled by alice"
    And bob/tablet sees nothing more

  Scenario: An invitee whose every device dropped still times out, and rings again on reconnecting
    Given users alice and bob
    And alice calls bob
    And bob goes offline
    When 10 seconds pass
    Then nobody sees anything
    When bob comes back online
    Then bob sees "[10s] call-1: incoming Audio call from alice"
    And alice sees nothing more
    When 20 seconds pass
    Then alice and bob see "[30s] call-1: ended, no answer"

  Scenario: A user who exists but has no device registered is refused at once with 480
    Given users alice and bob
    And user dave with no device
    When alice calls dave
    Then it fails with 480
    And nobody sees anything more
    When alice places an audio call to bob and dave
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    And the unavailable invitees are dave
    And dave's state in call-1 is unavailable
