@hold
Feature: Hold
  A member of a connected call puts it on hold and resumes it (Stringee hold / unhold). The other
  members are told; the member's own device is not (it made the request). Hold needs a connected
  call and a member in it.

  Scenario: Holding and resuming are told to the other side
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice holds the call
    Then bob sees "call-1: alice held the call"
    And alice sees nothing
    And alice has the call on hold
    And bob has the call not on hold
    When alice resumes the call
    Then bob sees "call-1: alice resumed the call"
    And alice has the call not on hold

  Scenario: Both sides may hold at once
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice holds the call
    And bob holds the call
    Then bob sees "call-1: alice held the call"
    And alice sees "call-1: bob held the call"
    When alice resumes the call
    Then bob sees "call-1: alice resumed the call"
    And bob has the call on hold

  Scenario Outline: Holding twice or resuming what is not held is refused with 422: <case>
    Given users alice and bob
    And alice calls bob
    And bob accepts
    And <given>
    When <when>
    Then it fails with 422 saying "<message>"
    And nobody sees anything more

    Examples:
      | case             | given                   | when                   | message     |
      | hold twice       | alice holds the call    | alice holds the call   | on hold     |
      | resume unheld    | 1 second passes         | bob resumes the call   | not on hold |
      | resume the other side's hold | bob holds the call | alice resumes call-1 | not on hold |

  @rule:session_start_required
  Scenario: Holding before the call is connected is refused
    Given devices do not start the media session automatically
    And users alice and bob
    And alice calls bob
    And bob acknowledges ringing
    When alice holds the call
    Then it fails with 422 saying "nobody has answered yet"
    When bob holds the call
    Then it fails with 422 saying "ringing"
    Given bob accepts
    When bob holds the call
    Then it fails with 422 saying "the call is connecting"
    Given alice starts the media session
    And bob starts the media session
    When bob holds the call
    Then alice sees "call-1: bob held the call"

  Scenario: In a group call every other member is told
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    When carol holds the call
    Then alice and bob see "call-1: carol held the call"
    And carol sees nothing

  Scenario: A ringing invitee of a group call cannot hold it
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    When carol holds the call
    Then it fails with 422

  Scenario: A device that is not in the call cannot hold it
    Given users alice
    And user bob with devices phone and tablet
    And alice calls bob
    And bob/phone accepts
    When bob/tablet holds the call
    Then it fails with 409
